import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// `polybroker bench`: load against a running server over loopback; prints throughput and latency.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a running Polybroker: catalog reads and provision→bind→unbind→deprovision cycles over /cf, next to a Hummingbird hello-world route served in the same run.")

    @Option(name: .long, help: "Base URL of the running server.")
    var url: String = "http://127.0.0.1:8080"

    @Option(name: .long, help: "Basic-auth user name (default: POLYBROKER_USERNAME or polybroker).")
    var username: String?

    @Option(name: .long, help: "Basic-auth password (default: POLYBROKER_PASSWORD, else <data>/secrets/password).")
    var password: String?

    @Option(name: .long, help: "Data directory to read the generated password from.")
    var data: String = "./data"

    @Option(name: .long, help: "Requests in flight at once.")
    var concurrency: Int = 16

    @Option(name: .long, help: "Seconds per phase.")
    var seconds: Double = 10

    @Option(name: .long, help: "Offering name used for cycles (a synchronous plan).")
    var offering: String = "sqlite"

    @Option(name: .long, help: "Plan name used for cycles.")
    var plan: String = "small"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let user = username ?? environment["POLYBROKER_USERNAME"] ?? "polybroker"
        guard let secret = password ?? environment["POLYBROKER_PASSWORD"] ?? Self.readPassword(data) else {
            throw ValidationError("no password: pass --password, set POLYBROKER_PASSWORD, or point --data at the server's data directory")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(60))))
        do {
            try await measure(client: client, user: user, secret: secret)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func measure(client: HTTPClient, user: String, secret: String) async throws {
        let load = Load(client: client, concurrency: concurrency, duration: seconds)
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let auth = "Basic " + Data("\(user):\(secret)".utf8).base64EncodedString()
        print("polybroker bench: \(base), concurrency \(concurrency), \(Int(seconds)) s per phase")

        let (helloURL, stopHello) = try await HelloWorld.start()
        let hello = try await load.requests { _ in try await load.get(helloURL, headers: [:]) }
        await stopHello()
        print(hello.line("hummingbird hello-world (same run)"))

        let health = try await load.requests { _ in try await load.get(base + "/healthz", headers: [:]) }
        print(health.line("polybroker GET /healthz"))

        let osbHeaders = ["Authorization": auth, "X-Broker-API-Version": "2.17", "Content-Type": "application/json"]
        let catalogText = try await load.get(base + "/cf/v2/catalog", headers: osbHeaders)
        guard let catalog = try? JSONSerialization.jsonObject(with: catalogText) as? [String: Any],
            let services = catalog["services"] as? [[String: Any]],
            let service = services.first(where: { $0["name"] as? String == offering }),
            let serviceID = service["id"] as? String,
            let plans = service["plans"] as? [[String: Any]],
            let planID = plans.first(where: { $0["name"] as? String == plan })?["id"] as? String
        else {
            throw ValidationError("the catalog at \(base)/cf/v2/catalog has no offering '\(offering)' with plan '\(plan)' (or the credentials are wrong)")
        }
        let catalogResult = try await load.requests { _ in try await load.get(base + "/cf/v2/catalog", headers: osbHeaders) }
        print(catalogResult.line("GET /cf/v2/catalog"))

        let provisionBody = #"{"service_id":"\#(serviceID)","plan_id":"\#(planID)","organization_guid":"bench-org","space_guid":"bench-space"}"#
        let bindBody = #"{"service_id":"\#(serviceID)","plan_id":"\#(planID)","app_guid":"bench-app"}"#
        let query = "?service_id=\(serviceID)&plan_id=\(planID)"
        let cycles = try await load.cycles { timings in
            let id = "bench-" + UUID().uuidString.lowercased()
            let instance = base + "/cf/v2/service_instances/" + id
            try await timings.time { try await load.send(.PUT, instance, body: provisionBody, headers: osbHeaders, expect: 201) }
            try await timings.time { try await load.send(.PUT, instance + "/service_bindings/b-" + id, body: bindBody, headers: osbHeaders, expect: 201) }
            try await timings.time { try await load.send(.DELETE, instance + "/service_bindings/b-" + id + query, body: nil, headers: osbHeaders, expect: 200) }
            try await timings.time { try await load.send(.DELETE, instance + query, body: nil, headers: osbHeaders, expect: 200) }
        }
        print(cycles.line("cycles: provision→bind→unbind→deprovision (4 requests)"))
        print(String(format: "  %.1f cycles/s", Double(cycles.units) / cycles.elapsed))
        if cycles.errors > 0 || catalogResult.errors > 0 {
            print("errors: \(catalogResult.errors) catalog, \(cycles.errors) cycle requests")
            throw ExitCode(1)
        }
    }

    static func readPassword(_ data: String) -> String? {
        let path = URL(fileURLWithPath: data).appendingPathComponent("secrets/password").path
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

/// A bare Hummingbird hello-world server on a free loopback port, for the baseline.
enum HelloWorld {
    static func start() async throws -> (String, @Sendable () async -> Void) {
        let router = Router()
        router.get("/") { _, _ in "Hello, world!" }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "hello-world")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let task = Task { try await app.run() }
        var port = 0
        for await value in portStream {
            port = value
            break
        }
        return ("http://127.0.0.1:\(port)/", { task.cancel(); _ = await task.result })
    }
}
