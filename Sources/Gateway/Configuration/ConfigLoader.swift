import BrokerCore
import Crypto
import Foundation
import Logging
import OSBFrontEnd
import TsuruFrontEnd
import ApceraFrontEnd
import RegistryFrontEnd

/// Loads `config/polybroker.yaml`, lays the environment over it and checks the result.
///
/// Precedence: command line > environment > file > built-in defaults.
public enum ConfigLoader {
    /// Environment variables and the key each one overrides.
    public static let environmentKeys: [(variable: String, path: [String])] = [
        ("POLYBROKER_HOST", ["server", "host"]),
        ("POLYBROKER_PORT", ["server", "port"]),
        ("POLYBROKER_MAX_BODY_BYTES", ["server", "max_body_bytes"]),
        ("POLYBROKER_DATA", ["data_directory"]),
        ("POLYBROKER_LOG_LEVEL", ["log_level"]),
        ("POLYBROKER_LEDGER_DURABILITY", ["ledger", "durability"]),
        ("POLYBROKER_LEDGER_KEY", ["ledger", "key"]),
        ("POLYBROKER_ASYNC_BUDGET_SECONDS", ["broker", "async_budget_seconds"]),
        ("POLYBROKER_SYNC_TIMEOUT_SECONDS", ["broker", "sync_timeout_seconds"]),
        ("POLYBROKER_HEALTH_CHECK_SECONDS", ["broker", "health_check_seconds"]),
        ("POLYBROKER_USERNAME", ["auth", "username"]),
        ("POLYBROKER_PASSWORD", ["auth", "password"]),
        ("POLYBROKER_REGISTRY_TOKENS", ["registry", "tokens"]),
        ("POLYBROKER_PLATFORM_TENANT", ["registry", "platform_tenant"]),
        ("POLYBROKER_APCERA_PROVIDER_REGISTRATION", ["frontends", "apcera", "provider_registration"]),
        ("POLYBROKER_APCERA_STATE_KEY", ["frontends", "apcera", "state_key"]),
        ("POLYBROKER_APCERA_TOKEN", ["frontends", "apcera", "token"]),
    ]

    /// Values given on the command line.
    public struct Overrides: Sendable {
        /// `--host`.
        public var host: String?
        /// `--port`.
        public var port: Int?
        /// `--data`.
        public var dataDirectory: String?

        /// Creates overrides.
        public init(host: String? = nil, port: Int? = nil, dataDirectory: String? = nil) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
        }
    }

    /// Loads and checks a configuration file.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: Overrides = Overrides(), plugins: PluginKinds = Plugins.installed
    ) throws -> GatewayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(problems: [ConfigProblem(path: "", message: "cannot read the configuration file \(path)")])
        }
        let document: JSONValue
        do {
            document = try YAMLDocument.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigurationError(problems: [ConfigProblem(path: "", message: "\(path) is not valid YAML: \(error)")])
        }
        return try parse(document, environment: environment, overrides: overrides, plugins: plugins)
    }

    /// Checks a parsed document, laying the environment and overrides over it.
    public static func parse(
        _ document: JSONValue, environment: [String: String] = [:], overrides: Overrides = Overrides(),
        plugins: PluginKinds = Plugins.installed
    ) throws -> GatewayConfiguration {
        var document = document.isNull ? .emptyObject : document
        var switched: [ConfigProblem] = []
        document = applyingSwitches(document, environment: environment, problems: &switched)
        guard switched.isEmpty else { throw ConfigurationError(problems: switched) }
        for (variable, path) in environmentKeys {
            if let value = environment[variable], !value.isEmpty {
                document = setting(document, path: path[...], to: .string(value))
            }
        }
        if let host = overrides.host { document = setting(document, path: ["server", "host"], to: .string(host)) }
        if let port = overrides.port { document = setting(document, path: ["server", "port"], to: .int(Int64(port))) }
        if let data = overrides.dataDirectory { document = setting(document, path: ["data_directory"], to: .string(data)) }
        var parser = CatalogParser(plugins: plugins)
        let configuration = parser.parse(document)
        guard parser.reader.problems.isEmpty, let configuration else {
            throw ConfigurationError(problems: parser.reader.problems)
        }
        return configuration
    }

    /// Providers and offerings switched on by the environment: an entry with `enabled_by: VAR`
    /// (or a list of variables) is kept only when every variable is set and not empty; `${VAR}`
    /// in a provider's params is replaced by the variable's value (a problem when it is unset).
    static func applyingSwitches(_ document: JSONValue, environment: [String: String], problems: inout [ConfigProblem]) -> JSONValue {
        guard var root = document.objectValue else { return document }
        for section in ["providers", "offerings"] {
            guard let entries = root[section]?.arrayValue else { continue }
            var kept: [JSONValue] = []
            for (index, entry) in entries.enumerated() {
                guard var members = entry.objectValue, let switches = members.removeValue(forKey: "enabled_by") else {
                    kept.append(entry)
                    continue
                }
                let variables = switches.arrayValue?.compactMap(\.stringValue) ?? switches.stringValue.map { [$0] } ?? []
                if variables.isEmpty || variables.count != (switches.arrayValue?.count ?? 1) {
                    problems.append(ConfigProblem(path: "\(section)[\(index)].enabled_by", message: "must name an environment variable or a list of them"))
                    continue
                }
                guard variables.allSatisfy({ !(environment[$0] ?? "").isEmpty }) else { continue }
                if section == "providers", let params = members["params"] {
                    members["params"] = substituting(params, environment: environment, at: "\(section)[\(index)].params", problems: &problems)
                }
                kept.append(.object(members))
            }
            root[section] = .array(kept)
        }
        return .object(root)
    }

    /// `${VAR}` replaced by the environment's value in every string.
    static func substituting(_ value: JSONValue, environment: [String: String], at path: String, problems: inout [ConfigProblem]) -> JSONValue {
        switch value {
        case .string(let text):
            guard text.contains("${") else { return value }
            var result = ""
            var rest = Substring(text)
            while let start = rest.range(of: "${") {
                result += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    problems.append(ConfigProblem(path: path, message: "has an unclosed ${"))
                    return value
                }
                let name = String(rest[start.upperBound..<end])
                if let replacement = environment[name], !replacement.isEmpty {
                    result += replacement
                } else {
                    problems.append(ConfigProblem(path: path, message: "uses ${\(name)}, which is not set"))
                }
                rest = rest[rest.index(after: end)...]
            }
            return .string(result + rest)
        case .object(let members):
            return .object(members.reduce(into: [:]) { $0[$1.key] = substituting($1.value, environment: environment, at: "\(path).\($1.key)", problems: &problems) })
        case .array(let items):
            return .array(items.enumerated().map { substituting($1, environment: environment, at: "\(path)[\($0)]", problems: &problems) })
        default:
            return value
        }
    }

    static func setting(_ value: JSONValue, path: ArraySlice<String>, to newValue: JSONValue) -> JSONValue {
        guard let key = path.first else { return newValue }
        var members = value.objectValue ?? [:]
        members[key] = setting(members[key] ?? .emptyObject, path: path.dropFirst(), to: newValue)
        return .object(members)
    }

    /// A stable UUID derived from a name, so catalog ids never change between starts.
    public static func stableID(_ name: String) -> String {
        var bytes = Array(SHA256.hash(data: Data("polybroker:\(name)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}

/// The one typed pass over a configuration document.
struct CatalogParser {
    let plugins: PluginKinds
    var reader = ConfigReader()

    static let topLevelKeys: Set<String> = [
        "server", "data_directory", "log_level", "ledger", "broker", "auth", "registry", "frontends", "providers",
        "offerings", "plans",
    ]
    static var namePattern: Regex<AnyRegexOutput> { try! Regex("^[a-z0-9][a-z0-9-]*$") }
    static var providerIDPattern: Regex<AnyRegexOutput> { try! Regex("^[A-Za-z0-9_.-]{1,65}$") }
    static var semverPattern: Regex<AnyRegexOutput> { try! Regex(#"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"#) }

    mutating func parse(_ document: JSONValue) -> GatewayConfiguration? {
        guard let root = reader.object(document, at: "") else { return nil }
        reader.checkKeys(root, allowed: Self.topLevelKeys, at: "")
        let server = reader.object(root["server"], at: "server") ?? [:]
        reader.checkKeys(server, allowed: ["host", "port", "max_body_bytes"], at: "server")
        let ledger = reader.object(root["ledger"], at: "ledger") ?? [:]
        reader.checkKeys(ledger, allowed: ["kind", "file", "durability", "key_file", "key"], at: "ledger")
        let broker = reader.object(root["broker"], at: "broker") ?? [:]
        reader.checkKeys(broker, allowed: ["async_budget_seconds", "sync_timeout_seconds", "health_check_seconds"], at: "broker")
        let auth = reader.object(root["auth"], at: "auth") ?? [:]
        reader.checkKeys(auth, allowed: ["username", "password"], at: "auth")
        let registry = reader.object(root["registry"], at: "registry") ?? [:]
        reader.checkKeys(registry, allowed: ["tokens", "platform_tenant"], at: "registry")
        let frontends = reader.object(root["frontends"], at: "frontends") ?? [:]
        reader.checkKeys(frontends, allowed: Set(GatewayConfiguration.defaultPrefixes.keys), at: "frontends")
        for (name, settings) in frontends {
            if let prefix = reader.object(settings, at: "frontends.\(name)")?["prefix"] {
                if !(prefix.stringValue?.hasPrefix("/") ?? false) || prefix.stringValue == "/" {
                    reader.problem("frontends.\(name).prefix", "must be a path like /\(name), starting with /")
                }
            }
        }

        var osb = OSBConfiguration(username: "", password: "", tenant: "")
        frontEndProblems("osb", osb.apply(frontends["osb"]))
        var apcera = ApceraConfiguration(username: "", password: "", tenant: "", stateKey: Data())
        frontEndProblems("apcera", apcera.apply(frontends["apcera"]))
        var registryFrontEnd = RegistryConfiguration(tokens: [])
        frontEndProblems("registry", registryFrontEnd.apply(frontends["registry"]))
        var tsuru = TsuruConfiguration(username: "", password: "", tenant: "")
        frontEndProblems("tsuru", tsuru.apply(frontends["tsuru"]))
        let logLevelText = reader.string(root, "log_level", at: "") ?? "info"
        let logLevel = Logger.Level(rawValue: logLevelText.lowercased())
        if logLevel == nil { reader.problem("log_level", "must be one of trace, debug, info, notice, warning, error, critical") }
        let kind = reader.string(ledger, "kind", at: "ledger") ?? "sqlite"
        if kind != "sqlite" { reader.problem("ledger.kind", "unknown ledger kind '\(kind)' (this build has: sqlite)") }
        let durability = reader.string(ledger, "durability", at: "ledger") ?? "full"
        if !["full", "normal"].contains(durability) { reader.problem("ledger.durability", "must be full or normal") }
        var tokens: [TenantToken]?
        if let text = reader.string(registry, "tokens", at: "registry") {
            tokens = TenantToken.parseList(text)
            if tokens == nil { reader.problem("registry.tokens", "must be tenant=token pairs separated by commas") }
        }
        let providers = parseProviders(reader.list(root["providers"], at: "providers"))
        let catalog = parseCatalog(root, providerKinds: Set(providers.map(\.kind)))
        if reader.problems.isEmpty {
            for problem in OSBFrontEnd.problems(in: catalog) { reader.problem("offerings", "Cloud Foundry would refuse the catalog: \(problem)") }
        }
        let username = reader.string(auth, "username", at: "auth") ?? "polybroker"
        if username.isEmpty || username.contains(":") { reader.problem("auth.username", "must be non-empty and contain no ':'") }

        return GatewayConfiguration(
            host: reader.string(server, "host", at: "server") ?? "127.0.0.1",
            port: reader.int(server, "port", at: "server", range: 0...65535) ?? 8080,
            maxBodyBytes: reader.int(server, "max_body_bytes", at: "server", range: 1024...(1 << 30)) ?? (1 << 20),
            dataDirectory: URL(fileURLWithPath: reader.string(root, "data_directory", at: "") ?? "./data", isDirectory: true)
                .standardizedFileURL,
            logLevel: logLevel ?? .info,
            ledger: LedgerSettings(
                file: reader.string(ledger, "file", at: "ledger") ?? "polybroker.sqlite", durability: durability,
                keyFile: reader.string(ledger, "key_file", at: "ledger") ?? "secrets/ledger.key",
                key: reader.string(ledger, "key", at: "ledger")),
            broker: BrokerConfiguration(
                asyncBudget: .milliseconds(Int((reader.double(broker, "async_budget_seconds", at: "broker", minimum: 0) ?? 10) * 1000)),
                syncTimeout: .milliseconds(Int((reader.double(broker, "sync_timeout_seconds", at: "broker", minimum: 0) ?? 50) * 1000)),
                healthCheckInterval: .milliseconds(Int((reader.double(broker, "health_check_seconds", at: "broker", minimum: 0.1) ?? 15) * 1000))),
            username: username, password: reader.string(auth, "password", at: "auth"), registryTokens: tokens,
            platformTenant: reader.string(registry, "platform_tenant", at: "registry"), frontends: frontends,
            providers: providers, catalog: catalog)
    }

    /// Records a front-end's `key: message` problems under `frontends.<name>.<key>`.
    mutating func frontEndProblems(_ name: String, _ problems: [String]) {
        for problem in problems {
            reader.problem("frontends.\(name).\(problem.prefix { $0 != ":" })", String(problem.drop { $0 != ":" }.dropFirst(2)))
        }
    }

    mutating func parseProviders(_ items: [JSONValue]) -> [Provider] {
        var providers: [Provider] = []
        var seen: Set<String> = []
        let epoch = Date(timeIntervalSince1970: 0)
        for (index, item) in items.enumerated() {
            let path = "providers[\(index)]"
            guard let members = reader.object(item, at: path) else { continue }
            reader.checkKeys(members, allowed: ["id", "name", "kind", "params", "tags", "metadata"], at: path)
            let id = reader.requiredString(members, "id", at: path)
            if let id {
                if (try? Self.providerIDPattern.wholeMatch(in: id)) == nil {
                    reader.problem("\(path).id", "must be 1 to 65 characters from A-Z a-z 0-9 _ . -")
                }
                if !seen.insert(id).inserted { reader.problem("\(path).id", "duplicate provider id '\(id)'") }
            }
            let kind = reader.requiredString(members, "kind", at: path)
            let params = members["params"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
            if let kind {
                if let factory = plugins.factory(for: kind) {
                    for message in factory.validate(params) { reader.problem("\(path).params", message) }
                } else {
                    reader.problem("\(path).kind", "unknown provider kind '\(kind)' (installed: \(plugins.kinds.joined(separator: ", ")))")
                }
            }
            guard let id, let kind else { continue }
            providers.append(
                Provider(
                    id: id, name: reader.string(members, "name", at: path) ?? id, kind: kind, params: params,
                    tags: reader.strings(members, "tags", at: path), metadata: reader.stringMap(members, "metadata", at: path),
                    source: .config, createdAt: epoch, updatedAt: epoch))
        }
        return providers
    }
}
