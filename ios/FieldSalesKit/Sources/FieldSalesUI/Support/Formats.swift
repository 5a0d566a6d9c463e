// Numbers, money, dates and changes formatted for the rep's locale and time zone. Money stays
// integer minor units until shown; the number of decimals comes from the core.

import FieldSalesKit
import Foundation

public struct Formats: Sendable {
    public let locale: Locale
    public let timeZone: TimeZone
    let strings: Strings

    init(locale: Locale, timeZone: TimeZone, strings: Strings) {
        self.locale = locale
        self.timeZone = timeZone
        self.strings = strings
    }

    /// `₩1,500,000`, `US$1,500.50` (ko), `$1,500.50` (en).
    public func money(_ m: Money) -> String {
        major(m).formatted(.currency(code: m.currency).locale(locale))
    }

    /// Amounts in several currencies, each formatted, joined; "—" when there are none.
    public func money(_ all: [Money]) -> String {
        all.isEmpty ? "—" : all.map(money).joined(separator: " · ")
    }

    /// The amount in major units (1,500.50 for 150050 USD).
    public func major(_ m: Money) -> Decimal {
        let exponent = CoreCalls.currencyExponent(m.currency)
        return Decimal(m.amountMinor) / pow(Decimal(10), exponent)
    }

    /// The amount as a rep would type it back into a field ("1500000", "1500.50").
    public func editable(_ m: Money) -> String {
        "\(major(m))"
    }

    public func number(_ n: Int) -> String {
        n.formatted(.number.locale(locale))
    }

    /// A share (0…1) as a percentage with at most one decimal; "—" when there is none.
    public func percent(_ share: Double?) -> String {
        guard let share, share.isFinite else { return "—" }
        return share.formatted(.percent.precision(.fractionLength(0...1)).locale(locale))
    }

    /// Basis points (10,000 = 100 %) as a percentage.
    public func percent(bp: Int64?) -> String {
        percent(bp.map { Double($0) / 10_000 })
    }

    /// "12.5 days" / "12.5일"; "—" when there is none.
    public func days(_ d: Double?) -> String {
        guard let d, d.isFinite else { return "—" }
        return strings(.daysValue, d.formatted(.number.precision(.fractionLength(0...1)).locale(locale)))
    }

    /// "Nov 2, 2026" / "2026년 11월 2일", in the rep's zone.
    public func date(_ ms: Int64) -> String {
        Date(ms: ms).formatted(Date.FormatStyle(date: .abbreviated, time: .omitted, locale: locale, timeZone: timeZone))
    }

    /// "Nov 2, 2026 at 6:00 PM" / "2026년 11월 2일 오후 6:00".
    public func dateTime(_ ms: Int64) -> String {
        Date(ms: ms).formatted(Date.FormatStyle(date: .abbreviated, time: .shortened, locale: locale, timeZone: timeZone))
    }

    /// "6:00 PM" / "오후 6:00".
    public func time(_ ms: Int64) -> String {
        Date(ms: ms).formatted(Date.FormatStyle(date: .omitted, time: .shortened, locale: locale, timeZone: timeZone))
    }

    /// A period as "Nov 2, 2026 – Nov 8, 2026" (its end is exclusive: the last day shown is the one before).
    public func period(_ p: Period) -> String {
        "\(date(p.start)) – \(date(p.end - 1))"
    }
}

extension Date {
    init(ms: Int64) {
        self.init(timeIntervalSince1970: Double(ms) / 1000)
    }
}
