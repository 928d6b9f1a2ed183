import BrokerCore
import Foundation

/// Helpers every front-end's settings and documents share.
public enum FrontEndSettings {
    /// One `key: unknown key (…)` problem per key not in `allowed`.
    public static func unknownKeys(in members: [String: JSONValue], allowed: Set<String>) -> [String] {
        members.keys.sorted().filter { !allowed.contains($0) }.map {
            "\($0): unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))"
        }
    }

    /// A front-end's `openapi.yaml`, shipped as a resource of its target.
    public static func openAPIDocument(in bundle: Bundle) -> String {
        guard let url = bundle.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.0.3\n" }
        return text
    }
}
