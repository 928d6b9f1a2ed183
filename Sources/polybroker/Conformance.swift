import ArgumentParser
import BrokerCore
import Conformance
import Foundation

/// `polybroker conformance <osb|tsuru|apcera|registry> --url URL [credentials]`: runs the
/// black-box suite of one protocol against any server and prints one line per case, then
/// `N passed, M failed`. Exit 0 when nothing failed, 1 on any failure, 2 when the suite cannot
/// run (bad option value, no connection, credentials refused).
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run a protocol's black-box conformance suite against a server (this one or another implementation).",
        discussion: """
            Suites follow the checklists of the protocol digests: osb (G, C, P, L, F, U, D, B, BL, FB, UB, I, O), \
            tsuru (T1-T26), apcera (A1-A49), registry (R1-R52). Exit status: 0 all passed, 1 a case failed, \
            2 the suite could not run. Secrets may come from the environment instead of the command line: \
            POLYBROKER_USERNAME, POLYBROKER_PASSWORD, POLYBROKER_APCERA_TOKEN, POLYBROKER_REGISTRY_TOKENS.
            """)

    @Argument(help: "The protocol: osb, tsuru, apcera or registry.")
    var protocolName: String

    @Option(help: "Base URL: the broker (http://H:P/cf), the tsuru service endpoint (http://H:P/tsuru/sqlite), the gateway (http://H:P/apcera) or the registry prefix (http://H:P/registry).")
    var url: String

    @Option(help: "Basic-auth user (default POLYBROKER_USERNAME, else polybroker; tsuru: the service name).")
    var username: String?

    @Option(help: "Basic-auth password (default POLYBROKER_PASSWORD).")
    var password: String?

    @Option(help: "Apcera bearer token (default POLYBROKER_APCERA_TOKEN) or registry X-Auth-Token (default from POLYBROKER_REGISTRY_TOKENS).")
    var token: String?

    @Option(help: "Registry tenant (default: the first of POLYBROKER_REGISTRY_TOKENS).")
    var tenant: String?

    @Option(help: "A second registry tenant, for the isolation cases R3-R5 (default: the second of POLYBROKER_REGISTRY_TOKENS).")
    var otherTenant: String?

    @Option(help: "The second tenant's token.")
    var otherToken: String?

    @Option(help: "OSB: status expected for a missing X-Broker-API-Version: 412 or 400.")
    var missingVersionStatus: String = "412"

    @Option(help: "OSB: last_operation after a finished asynchronous delete: gone (410) or succeeded (200).")
    var lastOperationAfterDelete: String = "gone"

    @Option(help: "The offering to provision: OSB service name or id, Apcera or registry offering.")
    var offering: String?

    @Option(help: "A synchronous plan (name or id) for OSB, tsuru and the registry; discovered when absent.")
    var plan: String?

    @Option(help: "An asynchronous plan (name or id); discovered when the protocol allows (OSB, tsuru, registry).")
    var asyncPlan: String?

    @Option(help: "tsuru: a second service of the same server, for the scope cases (T2e, T9c, T22).")
    var otherService: String?

    @Option(help: "OSB: X-Broker-API-Version sent.")
    var apiVersion: String = "2.17"

    @Option(help: "Seconds one request may take.")
    var timeout: Double = 30

    @Option(help: "Seconds one case may take.")
    var caseTimeout: Double = 90

    @Option(help: "Only these cases, comma-separated (G3 also selects G3a, G3b).")
    var only: String?

    @Flag(help: "Print the report as JSON on standard output (case lines go to standard error).")
    var json = false

    func run() async throws {
        guard let chosen = ConformanceProtocol(rawValue: protocolName.lowercased()) else {
            throw setupFailure("unknown protocol '\(protocolName)': use osb, tsuru, apcera or registry")
        }
        let options = try makeOptions(for: chosen)
        let json = self.json
        let report: ConformanceReport
        do {
            report = try await ConformanceSuites.run(chosen, options: options) { line in
                Self.write(line, toError: json)
            }
        } catch let error as SetupError {
            throw setupFailure(error.description)
        }
        if json {
            Self.write(report.json.canonicalText(), toError: false)
        } else {
            Self.write(report.summary, toError: false)
        }
        if report.failed > 0 { throw ExitCode(1) }
    }

    /// The suite options from the flags and the environment.
    func makeOptions(for chosen: ConformanceProtocol) throws -> ConformanceOptions {
        let environment = ProcessInfo.processInfo.environment
        var options = ConformanceOptions(url: url)
        options.password = password ?? environment["POLYBROKER_PASSWORD"]
        switch chosen {
        case .tsuru:
            options.username = username
        case .osb, .apcera:
            options.username = username ?? (options.password != nil ? environment["POLYBROKER_USERNAME"] ?? "polybroker" : nil)
        case .registry:
            break
        }
        if chosen == .apcera { options.token = token ?? environment["POLYBROKER_APCERA_TOKEN"] }
        if chosen == .registry {
            let pairs = (environment["POLYBROKER_REGISTRY_TOKENS"] ?? "").split(separator: ",").compactMap { pair -> (String, String)? in
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }
            options.tenant = tenant ?? pairs.first?.0
            options.token = token ?? pairs.first { $0.0 == options.tenant }?.1
            options.otherTenant = otherTenant ?? pairs.first { $0.0 != options.tenant }?.0
            options.otherToken = otherToken ?? pairs.first { $0.0 == options.otherTenant }?.1
        }
        guard let status = Int(missingVersionStatus), status == 412 || status == 400 else {
            throw setupFailure("--missing-version-status must be 412 or 400")
        }
        options.missingVersionStatus = status
        guard let afterDelete = LastOperationAfterDelete(rawValue: lastOperationAfterDelete) else {
            throw setupFailure("--last-operation-after-delete must be gone or succeeded")
        }
        options.lastOperationAfterDelete = afterDelete
        options.offering = offering
        options.plan = plan
        options.asyncPlan = asyncPlan
        options.otherService = otherService
        options.apiVersion = apiVersion
        options.requestTimeout = timeout
        options.caseTimeout = caseTimeout
        options.only = only.map { $0.split(separator: ",").map(String.init) } ?? []
        return options
    }

    /// Prints `polybroker conformance: <why>`; the error to throw, exit status 2.
    func setupFailure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("polybroker conformance: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// One line, written at once (standard output is block-buffered when redirected).
    static func write(_ line: String, toError: Bool) {
        (toError ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line + "\n").utf8))
    }
}
