import BrokerCore
import Crypto
import Foundation
import FrontEndSupport

/// Apcera's state headers in Polybroker's format (apcera.md §1.7): base64url, no padding, of a
/// JSON body followed by its 32-byte HMAC-SHA256 tag; caller-supplied params travel inside it
/// sealed with AES-256-GCM. Servers given the same key accept each other's state.
struct StateCodec: Sendable {
    static let maximumLength = 4096
    private static let context = Data("polybroker-apcera-state-v1".utf8) + Data([0])

    private let macKey: SymmetricKey
    private let encryptionKey: SymmetricKey
    /// (MAC, encryption) key pairs of earlier keys, still accepted for verification.
    private let previousKeys: [(mac: SymmetricKey, encryption: SymmetricKey)]

    /// The kinds of object a state describes.
    enum Kind: String, Sendable {
        case provider, service, binding
    }

    /// Why a header was refused (always a 400 `invalid_state`).
    struct Invalid: Error, Sendable {
        let reason: String
    }

    init(key: Data, previousKeys: [Data] = []) {
        func derive(_ key: Data, _ label: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(label.utf8), using: SymmetricKey(data: key))))
        }
        macKey = derive(key, "apcera-state-mac")
        encryptionKey = derive(key, "apcera-state-enc")
        self.previousKeys = previousKeys.map { (derive($0, "apcera-state-mac"), derive($0, "apcera-state-enc")) }
    }

    /// The header value for an object: `fields` in clear, `secret` sealed.
    func encode(_ kind: Kind, id: String, fields: [String: JSONValue], secret: JSONValue) throws -> String {
        let plaintext = JSONResponse.encode(secret)
        let box = try AES.GCM.seal(plaintext, using: encryptionKey, authenticating: Data("\(kind.rawValue):\(id)".utf8))
        guard let sealed = box.combined else { throw Invalid(reason: "sealing failed") }
        var body = fields
        body["v"] = 1
        body["typ"] = .string(kind.rawValue)
        body["id"] = .string(id)
        body["iat"] = .int(Int64(Date().timeIntervalSince1970))
        body["sealed"] = .string(Self.base64url(sealed))
        let bytes = JSONResponse.encode(.object(body))
        let tag = HMAC<SHA256>.authenticationCode(for: Self.context + bytes, using: macKey)
        return Self.base64url(bytes + Data(tag))
    }

    /// A verified state: its clear fields and its opened secret part.
    struct Decoded: Sendable {
        let fields: [String: JSONValue]
        let secret: JSONValue
        var id: String { fields["id"]?.stringValue ?? "" }
        func string(_ key: String) -> String? { fields[key]?.stringValue }
    }

    /// Verifies a header value for an object of `kind` (and, when known, of id `id`).
    /// Empty values count as absent (nil); anything foreign, forged, tampered or oversized throws.
    func decode(_ value: String?, as kind: Kind, id expectedID: String? = nil) throws -> Decoded? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        guard value.count <= Self.maximumLength else { throw Invalid(reason: "the \(kind.rawValue) state is longer than 4096 characters") }
        let trimmed = value.hasSuffix("=") ? String(value.prefix { $0 != "=" }) : value
        guard trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
            let raw = Self.decodeBase64url(trimmed), raw.count > 32
        else { throw Invalid(reason: "the \(kind.rawValue) state is not Polybroker state (URL-safe base64 expected)") }
        let body = raw.prefix(raw.count - 32)
        let tag = raw.suffix(32)
        let keys = [(mac: macKey, encryption: encryptionKey)] + previousKeys
        guard let key = keys.first(where: { HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: Self.context + body, using: $0.mac) }) else {
            throw Invalid(reason: "the \(kind.rawValue) state was not issued by this gateway (or was altered)")
        }
        guard let fields = JSONValue.parse(Data(body))?.objectValue, fields["v"] == 1, fields["typ"]?.stringValue == kind.rawValue,
            let id = fields["id"]?.stringValue
        else { throw Invalid(reason: "the state is not \(kind.rawValue) state") }
        if let expectedID, id != expectedID { throw Invalid(reason: "the \(kind.rawValue) state belongs to another \(kind.rawValue)") }
        guard let sealedText = fields["sealed"]?.stringValue, let sealed = Self.decodeBase64url(sealedText),
            let box = try? AES.GCM.SealedBox(combined: sealed),
            let opened = try? AES.GCM.open(box, using: key.encryption, authenticating: Data("\(kind.rawValue):\(id)".utf8)),
            let secret = JSONValue.parse(opened)
        else { throw Invalid(reason: "the \(kind.rawValue) state cannot be opened with this gateway's key") }
        return Decoded(fields: fields, secret: secret)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64url(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
