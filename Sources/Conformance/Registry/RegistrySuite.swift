import AsyncHTTPClient

/// The registry suite: not written yet, it has no case.
struct RegistrySuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient
    var suite: ConformanceSuite { ConformanceSuite(name: "registry", prepare: { [] }) }
}
