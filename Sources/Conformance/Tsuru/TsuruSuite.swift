import AsyncHTTPClient

/// The tsuru suite: not written yet, it has no case.
struct TsuruSuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient
    var suite: ConformanceSuite { ConformanceSuite(name: "tsuru", prepare: { [] }) }
}
