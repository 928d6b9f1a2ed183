import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// HTTP basic-auth credentials checked by comparing SHA-256 digests in constant time.
public struct BasicCredentials: Sendable {
    private let digests: [SHA256.Digest]

    /// Accepts any of these user/password pairs.
    public init(_ pairs: [(username: String, password: String)]) {
        digests = pairs.map { SHA256.hash(data: Data("\($0.username):\($0.password)".utf8)) }
    }

    /// The user name and password an `Authorization: Basic …` header carries, if any.
    public static func parse(_ header: String?) -> (username: String, password: String)? {
        guard let header, header.count > 6, header.prefix(6).lowercased() == "basic " else { return nil }
        guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// Whether the request's `Authorization` header matches one of the pairs.
    public func accepts(_ request: Request) -> Bool {
        guard let (username, password) = Self.parse(request.headers[.authorization]) else { return false }
        return accepts(username: username, password: password)
    }

    /// Whether the pair matches, in time independent of where it differs.
    public func accepts(username: String, password: String) -> Bool {
        let given = SHA256.hash(data: Data("\(username):\(password)".utf8))
        var matched = false
        for digest in digests {
            var difference: UInt8 = 0
            for (a, b) in zip(digest, given) { difference |= a ^ b }
            matched = matched || difference == 0
        }
        return matched
    }

    /// The `WWW-Authenticate` value for 401 answers.
    public static let challenge = "Basic realm=\"polybroker\""
}

/// A stable hex SHA-256, for ETags.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

/// Constant-time string comparison for tokens.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let left = SHA256.hash(data: Data(a.utf8))
    let right = SHA256.hash(data: Data(b.utf8))
    var difference: UInt8 = 0
    for (x, y) in zip(left, right) { difference |= x ^ y }
    return difference == 0
}

/// Renders an error the gateway itself detects (unknown path, wrong method, body too large,
/// an unexpected fault) in the wire format of the front-end that owns the path.
public typealias ErrorRenderer = @Sendable (_ status: HTTPResponse.Status, _ message: String, _ request: Request, _ requestID: String) -> Response
