import ArgumentParser
import Foundation
import Gateway
import LedgerSQLite
import Operator

/// `polybroker ledger …`: export, import and back up the ledger.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Export, import and back up the ledger.",
        subcommands: [Export.self, Import.self, Backup.self])

    /// `polybroker ledger export [--output FILE] [--reseal-key-file FILE]`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every offering, provider, session, instance, binding, operation and event as versioned JSON lines.",
            discussion: """
                Sealed values (binding credentials, provider params) stay sealed: copied as stored, or, with \
                --reseal-key-file, opened with this ledger's key and sealed again with the key in that file. \
                Safe while the server runs (one consistent read).
                """)

        @OptionGroup var options: ConfigOptions

        @Option(name: .long, help: "Write to this file (mode 0600, replaced only when complete) instead of standard output.")
        var output: String?

        @Option(name: .long, help: "A file holding the target ledger's key (base64 of 32 bytes) to seal credentials with.")
        var resealKeyFile: String?

        func run() async throws {
            let configuration = try options.load()
            try await reportingErrors {
                if let output {
                    let counts = try await LedgerTransfer.export(configuration, resealKeyFile: resealKeyFile, toFile: output)
                    standardError("exported \(LedgerTransfer.summary(counts)) to \(output)")
                } else {
                    try await LedgerTransfer.export(configuration, resealKeyFile: resealKeyFile) { line in
                        FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    }
                }
            }
        }
    }

    /// `polybroker ledger import FILE [--merge] [--allow-unknown-offerings]`.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read an export into this ledger, all or nothing; the ledger must be empty unless --merge.",
            discussion: """
                Stop the server of this data directory first. Sealed values must open with this ledger's key \
                (the exporting ledger's key, or the key given to export --reseal-key-file). With --merge, records \
                already present and identical are skipped; a record that differs is a conflict and nothing is \
                imported; events not present are appended with new sequence numbers.
                """)

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The export file ('-' for standard input).")
        var file: String

        @Flag(name: .long, help: "Merge into a ledger that holds records already.")
        var merge = false

        @Flag(name: .long, help: "Import live instances whose offering or plan this configuration's catalog lacks.")
        var allowUnknownOfferings = false

        func run() async throws {
            let configuration = try options.load()
            try await reportingErrors {
                let data: Data
                if file == "-" {
                    data = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let contents = FileManager.default.contents(atPath: file) else { throw OperatorError("cannot read \(file)") }
                    data = contents
                }
                let outcome = try await LedgerTransfer.importArchive(
                    data, into: configuration, merge: merge, allowUnknownOfferings: allowUnknownOfferings)
                for warning in outcome.warnings { standardError("warning: \(warning)") }
                var message = "imported \(LedgerTransfer.summary(outcome.report.inserted)) into \(LedgerAccess.path(configuration))"
                if merge { message += "; already present: \(LedgerTransfer.summary(outcome.report.skipped))" }
                standardError(message)
            }
        }
    }

    /// `polybroker ledger backup FILE`.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite ledger consistently into a new file, also while the server runs.",
            discussion: "The ledger key is not in the copy: keep the key file (or POLYBROKER_LEDGER_KEY) with it.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The new file.")
        var file: String

        func run() async throws {
            let configuration = try options.load()
            try await reportingErrors {
                let counts = try await LedgerTransfer.backup(configuration, to: file)
                standardError("backed up \(LedgerTransfer.summary(counts)) to \(file); the ledger key is not in it")
            }
        }
    }
}

/// Writes a line to standard error.
func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs an operator command: its errors are printed as `polybroker: …` and exit 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        standardError("polybroker: \(error)")
        throw ExitCode(1)
    }
}
