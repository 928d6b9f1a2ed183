import BrokerCore
import Foundation

/// A plain-text table: a header row and left-aligned columns separated by two blanks.
struct TextTable {
    let headers: [String]
    let rows: [[String]]

    init(_ headers: [String], _ rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    /// The table, or `empty` when there are no rows.
    func render(empty: String) -> String {
        guard !rows.isEmpty else { return empty }
        let cells = ([headers] + rows).map { $0.map(Self.clean) }
        var widths = headers.map { _ in 0 }
        for row in cells {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return cells.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// One line, control characters shown as blanks.
    static func clean(_ cell: String) -> String {
        String(cell.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : Character($0) })
    }
}

extension JSONValue {
    /// Indented JSON with sorted keys, for `--json`.
    public func prettyText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
