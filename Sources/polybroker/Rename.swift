import ArgumentParser
import BrokerCore
import Foundation
import Gateway
import LedgerSQLite
import Logging
import Operator

/// `polybroker rename-instance`.
struct RenameInstance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename-instance",
        abstract: "Give a service instance a new name (its id, bindings and backend resource stay).",
        discussion: """
            For names another platform cannot carry (tsuru: letters, digits, '-' and '_', starting with a letter). \
            Safe while the server runs; the instance must not be busy.
            """)

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The instance's current name or its id.")
    var instance: String

    @Argument(help: "The new name.")
    var newName: String

    func run() async throws {
        let configuration = try options.load()
        try await reportingErrors {
            let ledger = try LedgerAccess.openWithKey(configuration, create: false)
            var logger = Logger(label: "polybroker")
            logger.logLevel = .warning
            let broker = Broker(
                catalog: configuration.catalog, ledger: ledger, plugins: Plugins.installed, dataDirectory: configuration.dataDirectory,
                configuration: configuration.broker, logger: logger)
            do {
                let key: InstanceKey = try await broker.instance(.name(instance)) != nil ? .name(instance) : .id(instance)
                let renamed = try await broker.rename(key, to: newName, origin: RequestOrigin(protocolName: "operator"))
                print("renamed \(renamed.id): '\(instance)' → '\(renamed.name)'")
                try await ledger.close()
            } catch {
                try? await ledger.close()
                throw error
            }
        }
    }
}
