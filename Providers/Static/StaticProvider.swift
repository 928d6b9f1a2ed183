import BrokerCore

/// Returns the same configured credentials for every binding: a SaaS API key, a URL
/// (seed 000's "factory that returns static bindings for a web service API").
public struct StaticProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "static"

    /// The credentials every binding gets.
    public let credentials: [String: String]

    /// Creates a provider handing out `credentials`.
    public init(credentials: [String: String]) {
        self.credentials = credentials
    }

    /// The problems with params, one per bad key.
    static func problems(_ params: JSONValue) -> [String] {
        guard let members = params.objectValue else { return ["params must be an object"] }
        var problems = members.keys.sorted().filter { $0 != "credentials" }.map {
            "unknown parameter '\($0)': the static provider takes only 'credentials'"
        }
        guard let credentials = members["credentials"] else {
            return problems + ["'credentials' is required: an object of string values"]
        }
        guard let object = credentials.objectValue, !object.isEmpty else {
            return problems + ["'credentials' must be a non-empty object of string values"]
        }
        for key in object.keys.sorted() where object[key]?.stringValue == nil {
            problems.append("'credentials.\(key)' must be a string")
        }
        return problems
    }

    /// The factory Gateway registers. Params: `{"credentials": {KEY: string, …}}`, non-empty.
    public static let factory = PluginFactory(
        kind: kind, secretParams: ["credentials"], validate: problems,
        make: { params, _ in
            if let problem = problems(params).first { throw ProviderError.invalidParameters(problem) }
            return StaticProvider(credentials: params["credentials"]?.stringMap ?? [:])
        })

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult { ProvisionResult() }
    public func update(_ request: UpdateRequest) async throws {}
    public func deprovision(_ request: DeprovisionRequest) async throws {}
    public func bind(_ request: BindRequest) async throws -> Credentials { Credentials(credentials) }
    /// Static credentials are shared: there is nothing per binding to revoke.
    public func unbind(_ request: UnbindRequest) async throws {}
    public func health() async -> ProviderHealth { .healthy }
}
