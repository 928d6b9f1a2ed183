import AsyncHTTPClient

/// The apcera suite: not written yet, it has no case.
struct ApceraSuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient
    var suite: ConformanceSuite { ConformanceSuite(name: "apcera", prepare: { [] }) }
}
