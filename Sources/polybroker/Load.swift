import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A bounded closed-loop load: `concurrency` workers, each looping until the deadline.
struct Load: Sendable {
    let client: HTTPClient
    let concurrency: Int
    let duration: Double

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One request; throws on a status other than `expect`.
    @discardableResult
    func send(_ method: HTTPMethod, _ url: String, body: String?, headers: [String: String], expect: Int) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        guard Int(response.status.code) == expect else {
            throw Failure(description: "\(method) \(url) answered \(response.status.code)")
        }
        return Data(bytes.readableBytesView)
    }

    func get(_ url: String, headers: [String: String]) async throws -> Data {
        try await send(.GET, url, body: nil, headers: headers, expect: 200)
    }

    /// Each call of `body` is one timed request.
    func requests(_ body: @escaping @Sendable (Int) async throws -> Data) async throws -> LoadResult {
        try await cycles { timings in
            try await timings.time { _ = try await body(0) }
        }
    }

    /// Each call of `body` is one unit (a cycle of requests it times itself).
    func cycles(_ body: @escaping @Sendable (Timings) async throws -> Void) async throws -> LoadResult {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(duration * 1000))
        let results = await withTaskGroup(of: Timings.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    let timings = Timings()
                    while ContinuousClock.now < deadline {
                        do {
                            try await body(timings)
                            timings.units += 1
                        } catch {
                            timings.errors += 1
                            if timings.errors <= 3 { print("  error: \(error)") }
                        }
                    }
                    return timings
                }
            }
            var all: [Timings] = []
            for await timings in group { all.append(timings) }
            return all
        }
        let elapsed = ContinuousClock.now - started
        return LoadResult(
            units: results.reduce(0) { $0 + $1.units }, errors: results.reduce(0) { $0 + $1.errors },
            elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            latencies: results.flatMap(\.samples).sorted())
    }
}

/// One worker's latencies; used by one task only.
final class Timings: @unchecked Sendable {
    var samples: [Double] = []
    var units = 0
    var errors = 0

    func time(_ request: () async throws -> Void) async throws {
        let start = ContinuousClock.now
        try await request()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
    }
}

/// Throughput and latency of one phase.
struct LoadResult {
    let units: Int
    let errors: Int
    let elapsed: Double
    /// Milliseconds, sorted.
    let latencies: [Double]

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        return latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
    }

    func line(_ label: String) -> String {
        String(
            format: "%@\n  %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d requests, %d errors)", label,
            Double(latencies.count) / elapsed, percentile(0.50), percentile(0.99), latencies.count, errors)
    }
}
