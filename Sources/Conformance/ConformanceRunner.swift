import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOCore

/// A suite of one protocol: discovery, then its cases in order, then a final clean-up.
public struct ConformanceSuite: Sendable {
    /// The protocol name (`osb`, `tsuru`, `apcera`, `registry`).
    public let name: String
    /// Learns from the server what to provision and returns the cases; throws `SetupError` when
    /// the server cannot be tested at all (no answer, credentials refused).
    let prepare: @Sendable () async throws -> [ConformanceCase]
    /// Removes what shared fixtures left, after the last case.
    let finish: @Sendable () async -> Void

    init(name: String, prepare: @escaping @Sendable () async throws -> [ConformanceCase], finish: @escaping @Sendable () async -> Void = {}) {
        self.name = name
        self.prepare = prepare
        self.finish = finish
    }
}

/// The suite cannot run: no connection, credentials refused, bad options. The CLI exits 2.
public struct SetupError: Error, CustomStringConvertible {
    /// Why, one line.
    public let description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// How one case ended.
public enum CaseOutcome: Sendable, Equatable {
    /// Passed, with optional notes.
    case passed(notes: [String])
    /// Failed, with the reason.
    case failed(String)
    /// Not checked, with the reason.
    case skipped(String)
}

/// One case's result.
public struct CaseResult: Sendable {
    /// The checklist id.
    public let id: String
    /// The title.
    public let title: String
    /// How it ended.
    public let outcome: CaseOutcome
    /// How long it took, cleanup included.
    public let seconds: Double

    /// Creates a result.
    public init(id: String, title: String, outcome: CaseOutcome, seconds: Double) {
        self.id = id
        self.title = title
        self.outcome = outcome
        self.seconds = seconds
    }

    /// `PASS G3 title`, `FAIL T5 title: reason`, `SKIP A39 title: why`.
    public var line: String {
        switch outcome {
        case .passed(let notes): "PASS \(id) \(title)" + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
        case .failed(let reason): "FAIL \(id) \(title): \(reason)"
        case .skipped(let reason): "SKIP \(id) \(title): \(reason)"
        }
    }
}

/// The results of one suite run.
public struct ConformanceReport: Sendable {
    /// The protocol.
    public let protocolName: String
    /// One result per case run, in order.
    public let results: [CaseResult]

    /// Creates a report.
    public init(protocolName: String, results: [CaseResult]) {
        self.protocolName = protocolName
        self.results = results
    }

    /// Cases that passed.
    public var passed: Int { results.filter { if case .passed = $0.outcome { true } else { false } }.count }
    /// Cases that failed.
    public var failed: Int { results.filter { if case .failed = $0.outcome { true } else { false } }.count }
    /// Cases not checked.
    public var skipped: Int { results.filter { if case .skipped = $0.outcome { true } else { false } }.count }
    /// Ids of the failed cases.
    public var failedIDs: [String] { results.filter { if case .failed = $0.outcome { true } else { false } }.map(\.id) }
    /// Ids of the skipped cases.
    public var skippedIDs: [String] { results.filter { if case .skipped = $0.outcome { true } else { false } }.map(\.id) }

    /// `N passed, M failed` (`, K skipped` when some were).
    public var summary: String {
        "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// The report as JSON: counts and one object per case.
    public var json: JSONValue {
        [
            "protocol": .string(protocolName), "passed": .int(Int64(passed)), "failed": .int(Int64(failed)),
            "skipped": .int(Int64(skipped)),
            "cases": .array(results.map { result in
                var members: [String: JSONValue] = [
                    "id": .string(result.id), "title": .string(result.title), "seconds": .double((result.seconds * 1000).rounded() / 1000),
                ]
                switch result.outcome {
                case .passed(let notes):
                    members["result"] = "pass"
                    if !notes.isEmpty { members["notes"] = .array(notes.map(JSONValue.string)) }
                case .failed(let reason):
                    members["result"] = "fail"
                    members["reason"] = .string(reason)
                case .skipped(let reason):
                    members["result"] = "skip"
                    members["reason"] = .string(reason)
                }
                return .object(members)
            }),
        ]
    }
}

/// Runs the conformance suites.
public enum ConformanceSuites {
    /// Runs the suite of `protocolName` against `options.url`, printing one line per case through
    /// `output` as it goes. Cases run one after the other, each bounded by `options.caseTimeout`.
    public static func run(
        _ protocolName: ConformanceProtocol, options: ConformanceOptions, output: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> ConformanceReport {
        try options.validate()
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)), decompression: .disabled))
        do {
            let report = try await run(protocolName, options: options, http: http, output: output)
            try? await http.shutdown()
            return report
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func run(
        _ protocolName: ConformanceProtocol, options: ConformanceOptions, http: HTTPClient, output: @escaping @Sendable (String) -> Void
    ) async throws -> ConformanceReport {
        let suite = protocolName.suite(options: options, http: http)
        let cases: [ConformanceCase]
        do {
            cases = try await suite.prepare()
        } catch let error as SetupError {
            throw SetupError(options.redacted(error.description))
        } catch let error as TransportError {
            throw SetupError(options.redacted("cannot reach \(options.url): \(error.description)"))
        } catch {
            throw SetupError(options.redacted("cannot start the \(protocolName.rawValue) suite: \(error)"))
        }
        let selected = cases.filter { options.selects($0.id) }
        if !options.only.isEmpty && selected.isEmpty {
            throw SetupError("--only \(options.only.joined(separator: ",")) matches no case of the \(protocolName.rawValue) suite")
        }
        var results: [CaseResult] = []
        for conformanceCase in selected {
            let result = await run(conformanceCase, timeout: options.caseTimeout, options: options)
            output(result.line)
            results.append(result)
        }
        await suite.finish()
        return ConformanceReport(protocolName: protocolName.rawValue, results: results)
    }

    /// Runs one case with its time bound, then its clean-ups.
    static func run(_ conformanceCase: ConformanceCase, timeout: Double, options: ConformanceOptions) async -> CaseResult {
        let started = Date()
        let scope = CaseScope()
        let body = conformanceCase.body
        let outcome: CaseOutcome = await withTaskGroup(of: CaseOutcome?.self) { group in
            group.addTask {
                do {
                    try await body(scope)
                    return .passed(notes: scope.notes)
                } catch let failure as CaseFailure {
                    return .failed(failure.description)
                } catch let skip as CaseSkip {
                    return .skipped(skip.description)
                } catch let error as TransportError {
                    return .failed(error.description)
                } catch is CancellationError {
                    return nil
                } catch {
                    return .failed("unexpected error: \(error)")
                }
            }
            group.addTask {
                guard (try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))) != nil else { return nil }
                return .failed("timed out after \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s")
            }
            var first: CaseOutcome?
            while first == nil, let next = await group.next() {
                first = next
            }
            group.cancelAll()
            return first ?? .failed("cancelled")
        }
        for cleanup in scope.takeCleanups() {
            await cleanup()
        }
        let redacted: CaseOutcome
        switch outcome {
        case .passed(let notes): redacted = .passed(notes: notes.map(options.redacted))
        case .failed(let reason): redacted = .failed(options.redacted(reason))
        case .skipped(let reason): redacted = .skipped(options.redacted(reason))
        }
        return CaseResult(id: conformanceCase.id, title: conformanceCase.title, outcome: redacted, seconds: Date().timeIntervalSince(started))
    }
}
