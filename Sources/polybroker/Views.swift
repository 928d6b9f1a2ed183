import ArgumentParser
import BrokerCore
import Foundation
import Gateway
import LedgerSQLite
import Operator

/// Options of every listing: the configuration and `--json`.
struct ViewOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// Opens the ledger read-only (without its key), runs `body`, prints its table or JSON.
    func show(_ body: (SQLiteLedger, GatewayConfiguration) async throws -> (table: String, json: JSONValue)) async throws {
        let configuration = try config.load()
        try await reportingErrors {
            let ledger = try LedgerAccess.openRedacted(configuration)
            do {
                let (table, json) = try await body(ledger, configuration)
                print(self.json ? json.prettyText() : table)
                try await ledger.close()
            } catch {
                try? await ledger.close()
                throw error
            }
        }
    }
}

/// `polybroker instances`.
struct Instances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the service instances of every front-end and tenant.",
        discussion: "With --move-to, print the calls that move them to another platform without provisioning anything.")

    @OptionGroup var options: ViewOptions

    @Option(name: .long, help: "Only this registry tenant.")
    var tenant: String?

    @Option(name: .long, help: "Only this tsuru team.")
    var team: String?

    @Option(name: .customLong("protocol"), help: "Only instances created through this front-end (cf, tsuru, apcera, registry).")
    var protocolName: String?

    @Option(name: .long, help: "Only this offering (name or id).")
    var offering: String?

    @Flag(name: .long, help: "Include deleted instances.")
    var all = false

    @Option(name: .long, help: "Print a move plan to this platform (cf, tsuru) instead of the list.")
    var moveTo: String?

    @Option(name: .long, help: "Polybroker's base URL as the platforms reach it (default: http://<listen address>).")
    var url: String?

    func validate() throws {
        if let moveTo, MovePlatform(rawValue: moveTo) == nil {
            throw ValidationError("--move-to takes \(MovePlatform.allCases.map(\.rawValue).joined(separator: " or "))")
        }
    }

    func run() async throws {
        let query = OperatorViews.InstanceQuery(tenant: tenant, team: team, protocolName: protocolName, offering: offering, includeDeleted: all)
        try await options.show { ledger, configuration in
            let entries = try await OperatorViews.instances(ledger, catalog: configuration.catalog, query)
            if let target = moveTo.flatMap(MovePlatform.init(rawValue:)) {
                let plan = MovePlanner.plan(entries, to: target, configuration: configuration, baseURL: url)
                return (plan.text(username: configuration.username), plan.json)
            }
            return (OperatorViews.table(entries), OperatorViews.json(entries))
        }
    }
}

/// `polybroker bindings`.
struct Bindings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bindings of every front-end and tenant (never their credentials).")

    @OptionGroup var options: ViewOptions

    @Option(name: .long, help: "Only bindings of this instance (id or name).")
    var instance: String?

    @Option(name: .long, help: "Only bindings of this registry tenant's instances.")
    var tenant: String?

    @Option(name: .customLong("protocol"), help: "Only bindings made through this front-end.")
    var protocolName: String?

    @Flag(name: .long, help: "Include deleted bindings.")
    var all = false

    func run() async throws {
        let query = OperatorViews.BindingQuery(instance: instance, tenant: tenant, protocolName: protocolName, includeDeleted: all)
        try await options.show { ledger, _ in
            let entries = try await OperatorViews.bindings(ledger, query)
            return (OperatorViews.table(entries), OperatorViews.json(entries))
        }
    }
}

/// `polybroker providers`.
struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the providers, configured and registered (never their params).")

    @OptionGroup var options: ViewOptions

    @Option(name: .long, help: "Only this plugin kind.")
    var kind: String?

    @Option(name: .long, help: "Only this registry tenant's providers and the configured ones.")
    var tenant: String?

    @Flag(name: .long, help: "Include removed providers.")
    var all = false

    func run() async throws {
        let query = OperatorViews.ProviderQuery(kind: kind, tenant: tenant, includeRemoved: all)
        try await options.show { ledger, _ in
            let entries = try await OperatorViews.providers(ledger, query)
            return (OperatorViews.table(entries), OperatorViews.json(entries))
        }
    }
}

/// `polybroker events`.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the event feed of every front-end, oldest first.")

    @OptionGroup var options: ViewOptions

    @Option(name: .long, help: "Only this tenant.")
    var tenant: String?

    @Option(name: .long, help: "Only this type (instance.create, binding.delete, …).")
    var type: String?

    @Option(name: .customLong("protocol"), help: "Only events caused through this front-end (cf, tsuru, apcera, registry, system).")
    var protocolName: String?

    @Option(name: .long, help: "Only events about this instance, binding, provider or session id.")
    var subject: String?

    @Option(name: .long, help: "Only events after this sequence number.")
    var after: Int64?

    @Option(name: .long, help: "At most this many events.")
    var limit: Int?

    func run() async throws {
        let query = OperatorViews.EventQuery(tenant: tenant, type: type, protocolName: protocolName, subject: subject, after: after, limit: limit)
        try await options.show { ledger, _ in
            let events = try await OperatorViews.events(ledger, query)
            return (OperatorViews.table(events), OperatorViews.json(events))
        }
    }
}
