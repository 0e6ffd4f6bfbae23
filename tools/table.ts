// Plain-text tables for the summaries: numbers right-aligned, text left-aligned.

const looksNumeric = (cell: string) => /^[-+]?[0-9.,]+( ?[a-z%/]+)?$/i.test(cell) || cell === "—";

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[], isHeader: boolean) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? "";
        return column > 0 && !isHeader && looksNumeric(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header, true), rule, ...rows.map((row) => line(row, false))].join("\n");
}
