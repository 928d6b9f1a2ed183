import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// Rackspace's pagination: `{"values", "metadata": {count, limit, marker, next_marker, next_href}}`,
/// `limit` 1..1000 (default 100), an inclusive `marker`.
struct Pagination {
    let limit: Int
    let marker: String?

    init(_ request: Request) throws {
        if let text = request.query("limit"), !text.isEmpty {
            guard text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let value = Int(text) else {
                throw RegistryError(.badRequest, "invalidLimit", "Limit must be a number", details: "limit must be a whole number from 1 to 1000")
            }
            guard (1...1000).contains(value) else {
                throw RegistryError(.badRequest, "invalidLimit", "Limit out of range", details: "limit must be a whole number from 1 to 1000")
            }
            limit = value
        } else {
            limit = 100
        }
        let given = request.query("marker").flatMap { $0.isEmpty ? nil : $0 }
        if let given {
            guard given.count <= 255, given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-:_./".contains($0)) }) else {
                throw RegistryError.badRequest("marker may hold only A-Z a-z 0-9 - : _ . / (at most 255)")
            }
        }
        marker = given
    }

    var page: PageRequest { PageRequest(marker: marker, limit: limit) }

    /// The list body for a page of items.
    func body(_ values: [JSONValue], nextMarker: String?, request: Request) -> JSONValue {
        var nextHref: JSONValue = .null
        if let nextMarker {
            let host = request.head.authority ?? "localhost"
            let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~:/")
            var pairs = request.uri.queryParameters.filter { $0.key != "marker" }.map { "\($0.key)=\(String($0.value).addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            pairs.append("marker=\(nextMarker.addingPercentEncoding(withAllowedCharacters: allowed) ?? nextMarker)")
            nextHref = .string("\(scheme)://\(host)\(request.uri.path)?\(pairs.joined(separator: "&"))")
        }
        return [
            "values": .array(values),
            "metadata": [
                "count": .int(Int64(values.count)), "limit": .int(Int64(limit)), "marker": marker.map(JSONValue.string) ?? .null,
                "next_marker": nextMarker.map(JSONValue.string) ?? .null, "next_href": nextHref,
            ],
        ]
    }
}
