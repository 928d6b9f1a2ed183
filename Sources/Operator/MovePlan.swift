import BrokerCore
import Foundation
import Gateway

/// The platforms a move plan can target.
public enum MovePlatform: String, Sendable, CaseIterable {
    /// Cloud Foundry (or any OSB platform) through `/cf`.
    case cf
    /// tsuru through `/tsuru/<offering>`.
    case tsuru
}

/// One HTTP call against Polybroker in a move plan. `$UPPER_CASE` words are for the operator to fill in.
public struct MoveCall: Sendable, Equatable {
    /// The front-end whose credentials the call needs (`osb`, `tsuru`, `apcera`, `registry`).
    public var frontEnd: String
    /// HTTP method.
    public var method: String
    /// Path and query, from the server root.
    public var path: String
    /// JSON body.
    public var body: JSONValue?
    /// Form body (tsuru).
    public var form: [String: String]?
    /// The status that means it worked.
    public var expect: Int
    /// What it does, in a few words.
    public var purpose: String

    var json: JSONValue {
        [
            "front_end": .string(frontEnd), "method": .string(method), "path": .string(path), "body": body ?? .null,
            "form": form.map { JSONValue($0) } ?? .null, "expect": .int(Int64(expect)), "purpose": .string(purpose),
        ]
    }
}

/// What moving one instance takes.
public struct InstanceMove: Sendable {
    /// The instance's canonical id.
    public var id: String
    /// Its name.
    public var name: String
    /// Offering name.
    public var offering: String
    /// Plan name.
    public var plan: String
    /// Where the old platform put it (`team=…`, `org=… space=…`).
    public var placement: String
    /// The front-end that created it.
    public var createdBy: String
    /// Why the target platform cannot carry its name, when it cannot.
    public var nameProblem: String?
    /// The command that renames it to a name the target can carry.
    public var rename: String?
    /// Calls against Polybroker that make it usable on the target platform (nothing is provisioned).
    public var adopt: [MoveCall]
    /// What the operator does on the target platform.
    public var platformSteps: [String]
    /// Calls that remove the bindings of the other platforms (each revokes only its own credentials).
    public var release: [MoveCall]
    /// The same on those platforms' command lines, where they have one.
    public var releaseSteps: [String]
}

/// A migration report: for each instance the canonical id and the calls that adopt it on another
/// platform, then remove the old platform's bindings, with no backend resource created again.
public struct MovePlan: Sendable {
    /// The target platform.
    public var target: MovePlatform
    /// Polybroker's base URL.
    public var baseURL: String
    /// Done once, before the instances.
    public var setup: [String]
    /// Every instance.
    public var instances: [InstanceMove]
    /// What holds for the whole plan.
    public var notes: [String]

    /// The text for an operator's terminal.
    public func text(username: String) -> String {
        var lines = ["# Move \(instances.count) instance(s) to \(target == .cf ? "Cloud Foundry" : "tsuru") through \(baseURL)"]
        lines += notes.map { "# \($0)" }
        if !setup.isEmpty { lines += ["", "## once"] + setup }
        for move in instances {
            lines += ["", "## \(move.name) (id \(move.id); \(move.offering)/\(move.plan); created through \(move.createdBy); \(move.placement))"]
            if let problem = move.nameProblem {
                lines.append("# NOT CARRYABLE: \(problem)")
                lines.append("# " + MovePlanner.renameNote + ":")
                if let rename = move.rename { lines.append(rename) }
            }
            for call in move.adopt { lines += ["# \(call.purpose) (expect \(call.expect))", curl(call, username: username)] }
            if !move.platformSteps.isEmpty { lines += move.platformSteps }
            for call in move.release { lines += ["# \(call.purpose) (expect \(call.expect))", curl(call, username: username)] }
            lines += move.releaseSteps
        }
        return lines.joined(separator: "\n")
    }

    /// The plan as JSON.
    public var json: JSONValue {
        [
            "target": .string(target.rawValue), "base_url": .string(baseURL), "setup": .array(setup.map(JSONValue.string)),
            "notes": .array(notes.map(JSONValue.string)),
            "instances": .array(
                instances.map { move in
                    [
                        "id": .string(move.id), "name": .string(move.name), "offering": .string(move.offering), "plan": .string(move.plan),
                        "placement": .string(move.placement), "protocol": .string(move.createdBy),
                        "carryable": .bool(move.nameProblem == nil), "name_problem": move.nameProblem.map(JSONValue.string) ?? .null,
                        "rename": move.rename.map(JSONValue.string) ?? .null,
                        "rename_note": move.nameProblem == nil ? .null : .string(MovePlanner.renameNote),
                        "adopt": .array(move.adopt.map(\.json)), "platform_steps": .array(move.platformSteps.map(JSONValue.string)),
                        "release": .array(move.release.map(\.json)), "release_steps": .array(move.releaseSteps.map(JSONValue.string)),
                    ]
                }),
        ]
    }

    /// A call as a curl command line, credentials from the environment.
    func curl(_ call: MoveCall, username: String) -> String {
        var parts = ["curl -s -X \(call.method)"]
        switch call.frontEnd {
        case "osb":
            parts += ["-u \"\(username):$POLYBROKER_PASSWORD\"", "-H 'X-Broker-API-Version: 2.17'"]
        case "tsuru":
            let offering = call.path.split(separator: "/").dropFirst().first.map(String.init) ?? username
            parts += ["-u \"\(offering):$POLYBROKER_PASSWORD\""]
        case "registry":
            parts += ["-H \"X-Auth-Token: $POLYBROKER_REGISTRY_TOKEN\""]
        default:
            parts += ["-u \"\(username):$POLYBROKER_PASSWORD\""]
        }
        parts.append(shellQuoted(baseURL + call.path))
        if let body = call.body { parts += ["-H 'Content-Type: application/json'", "-d \(shellQuoted(body.canonicalText()))"] }
        for (key, value) in (call.form ?? [:]).sorted(by: { $0.key < $1.key }) {
            parts.append("--data-urlencode \(shellQuoted("\(key)=\(value)"))")
        }
        return parts.joined(separator: " ")
    }
}

/// Single quotes for a shell, except `$UPPER_CASE` placeholders, which stay expandable.
func shellQuoted(_ text: String) -> String {
    var pieces: [String] = []
    var rest = Substring(text)
    func literal(_ piece: Substring) {
        if !piece.isEmpty { pieces.append("'" + piece.replacingOccurrences(of: "'", with: "'\\''") + "'") }
    }
    while let match = rest.firstMatch(of: /\$[A-Z][A-Z0-9_]*/) {
        literal(rest[..<match.range.lowerBound])
        pieces.append("\"" + match.output + "\"")
        rest = rest[match.range.upperBound...]
    }
    literal(rest)
    return pieces.isEmpty ? "''" : pieces.joined()
}
