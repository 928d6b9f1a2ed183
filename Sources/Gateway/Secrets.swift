import BrokerCore
import Crypto
import Foundation
import Logging

/// The secrets `serve` runs with: from configuration or the environment, else generated once
/// and kept in `<data>/secrets/` (mode 0600), never a well-known default.
public struct ResolvedSecrets: Sendable {
    /// Basic-auth password of /cf, /apcera and /tsuru.
    public var password: String
    /// Registry tenants and tokens.
    public var registryTokens: [TenantToken]
    /// The tenant owning what /cf, /tsuru and /apcera create.
    public var platformTenant: String
    /// The key sealing credentials in the ledger.
    public var ledgerKey: SymmetricKey
    /// The key of Apcera's state headers.
    public var apceraStateKey: Data
    /// Files generated on this start, for the operator to be told about.
    public var generatedFiles: [String]

    /// Reads or creates every secret.
    public static func resolve(for configuration: GatewayConfiguration) throws -> ResolvedSecrets {
        let store = SecretStore(dataDirectory: configuration.dataDirectory)
        var generated: [String] = []
        let password: String
        if let configured = configuration.password {
            password = configured
        } else {
            let (value, created) = try store.readOrCreate("password") { SecretStore.randomToken() }
            password = value
            if created { generated.append(store.path("password")) }
        }
        let tokens: [TenantToken]
        if let configured = configuration.registryTokens {
            tokens = configured
        } else {
            let (value, created) = try store.readOrCreate("registry-tokens") { "default=\(SecretStore.randomToken())" }
            guard let parsed = TenantToken.parseList(value) else {
                throw SecretError("\(store.path("registry-tokens")) must hold tenant=token pairs separated by commas")
            }
            tokens = parsed
            if created { generated.append(store.path("registry-tokens")) }
        }
        let key: SymmetricKey
        if let configured = configuration.ledger.key {
            guard let data = Data(base64Encoded: configured), data.count == 32 else {
                throw SecretError("the ledger key (POLYBROKER_LEDGER_KEY or ledger.key) must be 32 bytes in base64")
            }
            key = SymmetricKey(data: data)
        } else {
            let file = configuration.ledger.keyFile.hasPrefix("/")
                ? configuration.ledger.keyFile : configuration.dataDirectory.appendingPathComponent(configuration.ledger.keyFile).path
            let (value, created) = try store.readOrCreate(atPath: file) {
                SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
            }
            guard let data = Data(base64Encoded: value), data.count == 32 else {
                throw SecretError("\(file) must hold a 32-byte key in base64")
            }
            key = SymmetricKey(data: data)
            if created { generated.append(file) }
        }
        let apceraKey: String
        if let configured = configuration.frontends["apcera"]?["state_key"]?.stringValue {
            apceraKey = configured
        } else {
            let (value, created) = try store.readOrCreate(atPath: configuration.dataDirectory.appendingPathComponent("apcera-state.key").path) {
                SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
            }
            apceraKey = value
            if created { generated.append(configuration.dataDirectory.appendingPathComponent("apcera-state.key").path) }
        }
        return ResolvedSecrets(
            password: password, registryTokens: tokens,
            platformTenant: configuration.platformTenant ?? tokens.first?.tenant ?? "default", ledgerKey: key,
            apceraStateKey: Data(apceraKey.utf8), generatedFiles: generated)
    }
}

/// A secret that cannot be read or created.
public struct SecretError: Error, CustomStringConvertible {
    /// What is wrong (never the secret).
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Files of secrets under `<data>/secrets/`, created with mode 0600 in a 0700 folder.
struct SecretStore {
    let dataDirectory: URL

    func path(_ name: String) -> String {
        dataDirectory.appendingPathComponent("secrets").appendingPathComponent(name).path
    }

    func readOrCreate(_ name: String, make: () -> String) throws -> (String, Bool) {
        try readOrCreate(atPath: path(name), make: make)
    }

    func readOrCreate(atPath file: String, make: () -> String) throws -> (String, Bool) {
        let manager = FileManager.default
        if let data = manager.contents(atPath: file) {
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw SecretError("\(file) is empty") }
            return (value, false)
        }
        let folder = (file as NSString).deletingLastPathComponent
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let value = make()
            guard manager.createFile(atPath: file, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw SecretError("cannot create \(file)")
            }
            return (value, true)
        } catch let error as SecretError {
            throw error
        } catch {
            throw SecretError("cannot create \(file): \(error.localizedDescription)")
        }
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Seals secrets at rest with AES-256-GCM: a version byte, then nonce, ciphertext and tag.
public struct AESGCMSealer: SecretSealer {
    private let key: SymmetricKey
    private static let version: UInt8 = 1

    /// Creates a sealer with a 256-bit key.
    public init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ plaintext: Data) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key)
        guard let combined = box.combined else { throw SecretError("sealing failed") }
        return Data([Self.version]) + combined
    }

    public func open(_ sealed: Data) throws -> Data {
        guard sealed.first == Self.version else { throw SecretError("unknown sealed format") }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed.dropFirst()), using: key)
    }
}
