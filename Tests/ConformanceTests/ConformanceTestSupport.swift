import AsyncHTTPClient
import BrokerCore
import Conformance
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// A Polybroker on a live loopback port, built from the shipped configuration.
enum LivePolybroker {
    /// Seconds the shipped asynchronous plan (`sqlite/large`) lasts here: the shipped 3 s would make
    /// every asynchronous flow 3 s long; the suites learn asynchrony from the server, so a shorter
    /// minimum exercises the same cases.
    static let asyncPlanSeconds = 1.5

    /// Runs `body` with the port of a fresh Polybroker (shipped config, temp data, `retry_after_seconds: 1`).
    static func run(_ tag: String, osb settings: [String: JSONValue] = [:], _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let directory = TemporaryDirectory("conformance-\(tag)")
        var configuration = try GatewayFixture.configuration(in: directory)
        configuration.logLevel = .warning
        configuration.setFrontEnd("osb", ["retry_after_seconds": 1])
        configuration.setFrontEnd("osb", settings)
        for (offeringIndex, offering) in configuration.catalog.offerings.enumerated() {
            for (planIndex, plan) in offering.plans.enumerated() where plan.isAsynchronous {
                configuration.catalog.offerings[offeringIndex].plans[planIndex].minimumDuration = .milliseconds(Int(asyncPlanSeconds * 1000))
            }
        }
        try await GatewayFixture.withLiveGateway(configuration) { client, _ in
            try await body(try #require(client.port))
        }
        _ = directory
    }

    /// The options a platform would use against Polybroker's `protocolName` front-end at `port`.
    static func options(_ protocolName: ConformanceProtocol, port: Int) -> ConformanceOptions {
        let base = "http://127.0.0.1:\(port)"
        var options: ConformanceOptions
        switch protocolName {
        case .osb:
            options = ConformanceOptions(url: base + "/cf")
            options.username = "polybroker"
        case .tsuru:
            options = ConformanceOptions(url: base + "/tsuru/sqlite")
            options.otherService = "static-api"
        case .apcera:
            options = ConformanceOptions(url: base + "/apcera")
            options.username = "polybroker"
            options.asyncPlan = "large"
        case .registry:
            options = ConformanceOptions(url: base + "/registry")
            options.tenant = "acme"
            options.token = "acme-token"
            options.otherTenant = "beta"
            options.otherToken = "beta-token"
        }
        options.password = GatewayFixture.password
        options.caseTimeout = 60
        return options
    }

    /// Runs one suite against a fresh Polybroker (through a breaking proxy when one is given),
    /// printing its lines.
    static func report(
        _ protocolName: ConformanceProtocol, only: [String] = [], osb settings: [String: JSONValue] = [:],
        adjust: @escaping @Sendable (inout ConformanceOptions) -> Void = { _ in }, through breakage: Breakage? = nil
    ) async throws -> ConformanceReport {
        let result = ResultBox<ConformanceReport?>(nil)
        let suite: @Sendable (Int) async throws -> Void = { port in
            var options = options(protocolName, port: port)
            options.only = only
            adjust(&options)
            result.set(try await ConformanceSuites.run(protocolName, options: options) { print("  [\(protocolName.rawValue)] \($0)") })
        }
        try await run(protocolName.rawValue, osb: settings) { port in
            if let breakage {
                try await BreakingProxy.run(forwardingTo: port, breakage: breakage, suite)
            } else {
                try await suite(port)
            }
        }
        let report = try #require(result.value)
        let slow = report.results.filter { $0.seconds >= 1 }.map { "\($0.id) \(String(format: "%.1f", $0.seconds)) s" }
        print("  [\(protocolName.rawValue)\(breakage == nil ? "" : ", broken")] \(report.summary); slow cases: \(slow.joined(separator: ", "))")
        return report
    }
}

/// A value behind a lock, for results handed out of `@Sendable` closures.
final class ResultBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func set(_ value: Value) { lock.withLock { stored = value } }
}

/// One request and the answer the real server gave, as the breaking proxy sees them.
struct ProxiedExchange: Sendable {
    let method: String
    let uri: String
    let requestHeaders: HTTPFields
    let requestBody: String
    var status: Int
    var headers: [(String, String)]
    var body: ByteBuffer

    /// Whether the request had this header with a non-empty value.
    func hasRequestHeader(_ name: String) -> Bool {
        HTTPField.Name(name).flatMap { requestHeaders[$0] }.map { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? false
    }

    /// The path without the query.
    var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
}

/// Changes what the real server answered: one deliberate bug per test.
typealias Breakage = @Sendable (inout ProxiedExchange) -> Void

/// A tiny Hummingbird app in front of a real Polybroker that forwards every request and lets a
/// `Breakage` rewrite the answer: a server that is wrong in exactly one way.
enum BreakingProxy {
    static func run(forwardingTo port: Int, breakage: @escaping Breakage, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let hopByHop: Set<String> = ["connection", "content-length", "transfer-encoding", "keep-alive"]
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let requestBody = try await request.body.collect(upTo: 16 << 20)
            var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(request.uri.string)")
            outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
            for field in request.headers where !hopByHop.contains(field.name.canonicalName) {
                outgoing.headers.add(name: field.name.rawName, value: field.value)
            }
            outgoing.body = .bytes(requestBody)
            let response = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(90))
            var exchange = ProxiedExchange(
                method: request.method.rawValue, uri: request.uri.string, requestHeaders: request.headers,
                requestBody: String(buffer: requestBody), status: Int(response.status.code),
                headers: response.headers.filter { !hopByHop.contains($0.name.lowercased()) }.map { ($0.name, $0.value) },
                body: try await response.body.collect(upTo: 32 << 20))
            breakage(&exchange)
            var headers = HTTPFields()
            for (name, value) in exchange.headers {
                if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
            }
            return Response(status: HTTPResponse.Status(code: exchange.status), headers: headers, body: ResponseBody(byteBuffer: exchange.body))
        }
        var logger = Logger(label: "breaking-proxy")
        logger.logLevel = .warning
        let application = Application(
            responder: responder, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        try await application.test(.live) { client in try await body(try #require(client.port)) }
    }
}
