// What every view model shares: the rep's locale and time zone (the device's, or a test's), the
// clock, and the strings and formats made from them.

import FieldSalesKit
import Foundation

/// The locale, time zone and clock a screen works in. Apps pass `.device`; tests pass a fixed
/// locale, zone and time so that "today" and every formatted figure are known.
public struct UIContext: Sendable {
    public let locale: Locale
    public let timeZone: TimeZone
    public let now: @Sendable () -> Date
    public let strings: Strings
    public let formats: Formats

    public init(locale: Locale, timeZone: TimeZone, now: @escaping @Sendable () -> Date = { Date() }) {
        self.locale = locale
        self.timeZone = timeZone
        self.now = now
        strings = Strings(locale: locale)
        formats = Formats(locale: locale, timeZone: timeZone, strings: strings)
    }

    /// The device's settings, read when the app starts.
    public static var device: UIContext {
        UIContext(locale: .current, timeZone: .current)
    }

    /// Now, in ms since the Unix epoch (the core's time unit).
    public var nowMs: Int64 { Int64((now().timeIntervalSince1970 * 1000).rounded()) }

    /// The zone's IANA name, as the core's day and period boundaries take it (daylight saving
    /// included).
    public var timeZoneName: String { timeZone.identifier }
}

/// A store call's error in words for the rep, whatever went wrong.
extension UIContext {
    public func plainError(_ error: Error) -> String {
        guard let e = error as? FieldsalesError else { return strings(.errorUnexpected, "\(error)") }
        switch e {
        case .Network: return strings(.errorOffline)
        case .Unauthorized: return strings(.errorRevoked)
        case .NotEnrolled: return strings(.errorNotEnrolled)
        case .Server(let m, _, _):
            return CoreCalls.serverCode(of: e) == "invalid_code" ? strings(.errorCodeExpired) : strings(.errorServerRefused, m)
        case .Sync: return strings(.errorServerUnreadable)
        case .Cancelled: return strings(.syncCancelled)
        case .Storage(let m): return strings(.errorStorage, m)
        case .Forbidden: return strings(.errorForbidden)
        case .Validation(let m, _), .NotFound(let m), .AlreadyExists(let m), .WrongUser(let m), .WrongKey(let m), .InvalidData(let m),
             .UnreadableCode(let m):
            return m
        }
    }
}
