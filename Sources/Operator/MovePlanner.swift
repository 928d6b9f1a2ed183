import BrokerCore
import Foundation
import Gateway

/// Builds move plans from what the ledger holds. Every instance of the platform tenant is
/// reachable from every front-end by its canonical id (tsuru by its name), so moving one is a
/// matter of binding it on the new platform and unbinding it on the old: nothing is provisioned.
public enum MovePlanner {
    /// What the plan says about renaming: the operator command, run before the move.
    public static let renameNote =
        "rename it first (the id, bindings and backend resource stay; platforms that address it by id are not affected), then plan the move again"

    /// The command that renames an instance to a name tsuru can carry.
    public static func renameCommand(_ name: String) -> String {
        "polybroker rename-instance '\(name)' '\(tsuruName(for: name))'"
    }

    /// A tsuru-carryable name close to `name`: other characters become `-`, a leading letter is ensured.
    public static func tsuruName(for name: String) -> String {
        var candidate = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
        if !(candidate.first?.isLetter ?? false) { candidate = "s-" + candidate }
        if candidate.count < 2 { candidate += "-1" }
        if candidate == "plans" { candidate = "plans-1" }
        return String(candidate.prefix(128))
    }

    /// Plans moving `entries` to `target`; `baseURL` is where the platforms reach Polybroker.
    public static func plan(
        _ entries: [OperatorViews.InstanceEntry], to target: MovePlatform, configuration: GatewayConfiguration, baseURL: String? = nil
    ) -> MovePlan {
        let base = baseURL ?? "http://\(configuration.host):\(configuration.port)"
        let live = entries.filter { $0.instance.state == .ready || $0.instance.state == .updating }
        let skipped = entries.filter { $0.instance.state != .ready && $0.instance.state != .updating }
        let skippedNote = skipped.isEmpty
            ? [] : ["Left out, not ready: " + skipped.map { "\($0.instance.name) (\($0.instance.state.rawValue))" }.joined(separator: ", ") + "."]
        let paths = Paths(configuration: configuration)
        let offerings = Array(Set(live.map(\.offering))).sorted()
        switch target {
        case .cf:
            return MovePlan(
                target: target, baseURL: base,
                setup: ["cf create-service-broker polybroker \(configuration.username) \"$POLYBROKER_PASSWORD\" \(base)\(paths.osb)"]
                    + offerings.map { "cf enable-service-access \($0)" },
                instances: live.map { cfMove($0, paths: paths) },
                notes: [
                    "Nothing below provisions: each call binds or unbinds an instance that exists, by its canonical id.",
                    "Cloud Foundry chooses instance GUIDs itself and cannot adopt a brokered instance under an existing id: the broker's bind call gives the credentials, which enter CF as a user-provided service.",
                    "Never `tsuru service-instance-remove` a moved instance: that deprovisions it. Unbinding only revokes that app's credentials.",
                ] + skippedNote)
        case .tsuru:
            return MovePlan(
                target: target, baseURL: base,
                setup: offerings.map { "polybroker tsuru-manifest \($0) --team $TSURU_TEAM > \($0).yaml && tsuru service-create \($0).yaml" },
                instances: live.map { tsuruMove($0, paths: paths) },
                notes: [
                    "Nothing below provisions: each call binds or unbinds an instance that exists.",
                    "tsuru cannot adopt an instance it did not create (service-instance-add always provisions a new one): each app gets the instance's variables from Polybroker's bind-app and keeps them with `tsuru env-set`.",
                ] + skippedNote)
        }
    }

    /// Why tsuru cannot carry a name (its rule: 2 to 128 letters, digits, `-` and `_`, starting with a letter; not `plans`).
    public static func tsuruNameProblem(_ name: String) -> String? {
        if name == "plans" { return "tsuru reserves the name 'plans'" }
        guard name.count > 128 || name.wholeMatch(of: /[A-Za-z][-A-Za-z0-9_]+/) == nil else { return nil }
        let odd = Set(name.filter { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }).sorted()
        let detail = odd.isEmpty ? "" : "; '\(name)' has \(odd.map { "'\($0)'" }.joined(separator: ", "))"
        return "tsuru names are 2 to 128 letters, digits, '-' and '_', starting with a letter\(detail)"
    }

    static func cfMove(_ entry: OperatorViews.InstanceEntry, paths: Paths) -> InstanceMove {
        let instance = entry.instance
        let instancePath = "\(paths.osb)/v2/service_instances/\(segment(instance.id))"
        var move = skeleton(entry)
        if instance.name.count > 255 { move.nameProblem = "Cloud Foundry names are at most 255 characters" }
        let others = entry.bindings.filter { $0.createdBy != "cf" && $0.state != .deleted }
        (move.release, move.releaseSteps) = release(others, of: entry, paths: paths)
        guard instance.createdBy != "cf" else {
            move.platformSteps = ["# Cloud Foundry created it: bind more apps with cf bind-service"]
            return move
        }
        let apps = others.isEmpty ? ["$CF_APP"] : others.map(OperatorViews.app)
        move.adopt = [
            MoveCall(
                frontEnd: "osb", method: "GET", path: instancePath, expect: 200,
                purpose: "Cloud Foundry's broker API sees the instance; nothing is created")
        ]
        for app in apps {
            move.adopt.append(
                MoveCall(
                    frontEnd: "osb", method: "PUT", path: "\(instancePath)/service_bindings/$BINDING_ID",
                    body: [
                        "service_id": .string(instance.offeringID), "plan_id": .string(instance.planID), "app_guid": "$CF_APP_GUID",
                        "bind_resource": ["app_guid": "$CF_APP_GUID"],
                    ], expect: 201,
                    purpose: "bind the Cloud Foundry app replacing '\(app)' (a new $BINDING_ID each; answers its credentials, the backend resource is reused)"))
            let service = apps.count == 1 ? instance.name : "\(instance.name)-\(app)"
            move.platformSteps += [
                "# keep the \"credentials\" object of that answer in \(service).json, then:",
                "cf create-user-provided-service \(service) -p \(service).json",
                "cf bind-service $CF_APP \(service)",
            ]
        }
        return move
    }

    static func tsuruMove(_ entry: OperatorViews.InstanceEntry, paths: Paths) -> InstanceMove {
        let instance = entry.instance
        var move = skeleton(entry)
        move.nameProblem = tsuruNameProblem(instance.name)
        guard move.nameProblem == nil else {
            move.rename = renameCommand(instance.name)
            return move
        }
        let others = entry.bindings.filter { $0.createdBy != "tsuru" && $0.state != .deleted }
        (move.release, move.releaseSteps) = release(others, of: entry, paths: paths)
        guard instance.createdBy != "tsuru" else {
            move.platformSteps = ["# tsuru created it: bind more apps with tsuru service-instance-bind"]
            return move
        }
        for binding in others.isEmpty ? [nil] : others.map(Optional.some) {
            move.adopt.append(
                MoveCall(
                    frontEnd: "tsuru", method: "POST", path: "\(paths.tsuru)/\(segment(entry.offering))/resources/\(segment(instance.name))/bind-app",
                    form: ["app-name": "$TSURU_APP"], expect: 201,
                    purpose: "bind the tsuru app" + (binding.map { " replacing \($0.createdBy) app '\(OperatorViews.app($0))'" } ?? "")
                        + " (answers its variables; the backend resource is reused)"))
        }
        move.platformSteps = ["tsuru env-set -a $TSURU_APP VARIABLE=value …   # each variable of that answer"]
        return move
    }

    static func skeleton(_ entry: OperatorViews.InstanceEntry) -> InstanceMove {
        InstanceMove(
            id: entry.instance.id, name: entry.instance.name, offering: entry.offering, plan: entry.plan,
            placement: OperatorViews.placement(entry.instance), createdBy: entry.instance.createdBy, nameProblem: nil, rename: nil,
            adopt: [], platformSteps: [], release: [], releaseSteps: [])
    }

    /// The calls (and platform commands) that remove bindings made through other front-ends.
    static func release(_ bindings: [Binding], of entry: OperatorViews.InstanceEntry, paths: Paths) -> ([MoveCall], [String]) {
        let instance = entry.instance
        var calls: [MoveCall] = []
        var steps: [String] = []
        for binding in bindings {
            let app = OperatorViews.app(binding)
            switch binding.createdBy {
            case "tsuru":
                calls.append(
                    MoveCall(
                        frontEnd: "tsuru", method: "DELETE", path: "\(paths.tsuru)/\(segment(entry.offering))/resources/\(segment(instance.name))/bind-app",
                        form: ["app-name": app], expect: 200, purpose: "remove the binding of tsuru app '\(app)' (revokes only its credentials)"))
                steps.append("# or from tsuru itself: tsuru service-instance-unbind \(entry.offering) \(instance.name) -a \(app)")
            case "cf":
                let query = "service_id=\(segment(instance.offeringID))&plan_id=\(segment(instance.planID))"
                calls.append(
                    MoveCall(
                        frontEnd: "osb", method: "DELETE",
                        path: "\(paths.osb)/v2/service_instances/\(segment(instance.id))/service_bindings/\(segment(binding.id))?\(query)",
                        expect: 200, purpose: "remove Cloud Foundry binding \(binding.id) of app \(app) (revokes only its credentials)"))
                steps.append("# for a binding Cloud Foundry made itself, run instead: cf unbind-service APP SERVICE_INSTANCE")
            case "apcera":
                calls.append(
                    MoveCall(
                        frontEnd: "apcera", method: "DELETE", path: "\(paths.apcera)/bindings/\(segment(binding.id))", expect: 200,
                        purpose: "remove Apcera binding \(binding.id) (revokes only its credentials)"))
            case "registry":
                calls.append(
                    MoveCall(
                        frontEnd: "registry", method: "DELETE",
                        path: "\(paths.registry)/v1.0/\(segment(instance.tenant))/services/\(segment(instance.name))/bindings/\(segment(binding.id))",
                        expect: 204, purpose: "remove registry binding \(binding.id) (revokes only its credentials)"))
            default:
                steps.append("# binding \(binding.id) was made by '\(binding.createdBy)': remove it there")
            }
        }
        return (calls, steps)
    }

    /// A path segment, percent-encoded (placeholders kept).
    static func segment(_ text: String) -> String {
        if text.wholeMatch(of: /\$[A-Z][A-Z0-9_]*/) != nil { return text }
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The front-ends' mount points.
    struct Paths {
        let osb: String
        let tsuru: String
        let apcera: String
        let registry: String

        init(configuration: GatewayConfiguration) {
            osb = configuration.prefix(of: "osb")
            tsuru = configuration.prefix(of: "tsuru")
            apcera = configuration.prefix(of: "apcera")
            registry = configuration.prefix(of: "registry")
        }
    }
}
