import AsyncHTTPClient
import Foundation
import NIOCore

/// The four protocols with a suite.
public enum ConformanceProtocol: String, CaseIterable, Sendable {
    /// Open Service Broker API v2 (`../shared/protocols/osb.md`, ids G, C, P, L, F, U, D, B, BL, FB, UB, I, O).
    case osb
    /// tsuru's service API (`tsuru.md`, ids T1…T26).
    case tsuru
    /// Apcera's service gateway API (`apcera.md`, ids A1…A49).
    case apcera
    /// Polybroker's registry API (`registry.md`, ids R1…R52).
    case registry

    func suite(options: ConformanceOptions, http: HTTPClient) -> ConformanceSuite {
        switch self {
        case .osb: OSBSuite(options: options, http: http).suite
        case .tsuru: TsuruSuite(options: options, http: http).suite
        case .apcera: ApceraSuite(options: options, http: http).suite
        case .registry: RegistrySuite(options: options, http: http).suite
        }
    }
}

/// What `last_operation` answers once an asynchronous delete finished (osb.md L5).
public enum LastOperationAfterDelete: String, Sendable, CaseIterable {
    /// 410 Gone (osb-checker-kotlin).
    case gone
    /// 200 `{"state":"succeeded"}` (osb-checker).
    case succeeded
}

/// Everything a suite needs to know about the server under test.
public struct ConformanceOptions: Sendable {
    /// The base URL: the broker (`http://host:8080/cf`), the tsuru service endpoint
    /// (`http://host:8080/tsuru/sqlite`), the Apcera gateway (`http://host:8080/apcera`) or the
    /// registry prefix (`http://host:8080/registry`).
    public var url: String
    /// Basic-auth user (OSB, Apcera; tsuru defaults to the service name, as tsuru does).
    public var username: String?
    /// Basic-auth password.
    public var password: String?
    /// Bearer token (Apcera) or `X-Auth-Token` (registry).
    public var token: String?
    /// The registry tenant.
    public var tenant: String?
    /// A second registry tenant and its token, for the isolation cases (R3–R5).
    public var otherTenant: String?
    /// The second tenant's token.
    public var otherToken: String?
    /// OSB: the status for a missing `X-Broker-API-Version` (412 or 400).
    public var missingVersionStatus: Int = 412
    /// OSB: `last_operation` after a finished asynchronous delete.
    public var lastOperationAfterDelete: LastOperationAfterDelete = .gone
    /// The offering to provision (OSB service name or id, Apcera/registry offering name).
    public var offering: String?
    /// A synchronous plan to provision (name or id).
    public var plan: String?
    /// An asynchronous plan (name or id); discovered when the protocol allows it.
    public var asyncPlan: String?
    /// tsuru: a second service of the same server (a sibling endpoint), for the scope cases (T2, T22).
    public var otherService: String?
    /// OSB: the `X-Broker-API-Version` sent.
    public var apiVersion: String = "2.17"
    /// Seconds one request may take.
    public var requestTimeout: Double = 30
    /// Seconds one case may take, clean-up excluded.
    public var caseTimeout: Double = 90
    /// Only the cases with these ids (`G3` also selects `G3a`, `G3b`).
    public var only: [String] = []

    /// Options for a server at `url`.
    public init(url: String) {
        self.url = url
    }

    func validate() throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            parsed.host?.isEmpty == false
        else { throw SetupError("--url must be an http:// or https:// URL, got '\(url)'") }
        guard missingVersionStatus == 412 || missingVersionStatus == 400 else {
            throw SetupError("--missing-version-status must be 412 or 400")
        }
        guard requestTimeout > 0, caseTimeout > 0 else { throw SetupError("timeouts must be positive") }
    }

    /// Whether `--only` selects the case `id`: `G3` selects `G3`, `G3a`, `G3b`; a family of letters
    /// such as `B` selects `B1`, `B2a`, … (not `BL1`).
    func selects(_ id: String) -> Bool {
        guard !only.isEmpty else { return true }
        return only.contains { token in
            let token = token.trimmingCharacters(in: .whitespaces)
            guard !token.isEmpty, id.lowercased().hasPrefix(token.lowercased()) else { return false }
            let rest = id.dropFirst(token.count)
            if rest.isEmpty { return true }
            if token.last?.isNumber == true { return rest.allSatisfy(\.isLowercase) }
            return rest.first?.isNumber == true && rest.drop(while: \.isNumber).allSatisfy(\.isLowercase)
        }
    }

    /// The text with every configured secret replaced by `********`.
    func redacted(_ text: String) -> String {
        var text = text
        for secret in [password, token, otherToken].compactMap({ $0 }) where secret.count >= 3 {
            text = text.replacingOccurrences(of: secret, with: "********")
        }
        return text
    }

    var timeout: TimeAmount { .milliseconds(Int64(requestTimeout * 1000)) }

    /// The URL without a trailing slash.
    var base: String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// Whether the server runs on this machine (then files named in credentials can be checked).
    var isLoopback: Bool {
        guard let host = URL(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
