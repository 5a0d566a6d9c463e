// Every call the view models make into the core, in one place. When the FFI grows (a field on
// validation errors, a duplicate check for a draft, unsynced marks, ...), this file is where the
// view models switch to it; ios/README.md "Needs from the FFI" lists what is still missing.

import FieldSalesKit
import Foundation

/// The store calls of the screens, over `FieldSalesKit` (which runs them off the main thread).
public struct CoreCalls: Sendable {
    public let kit: FieldSalesKit

    public init(kit: FieldSalesKit) {
        self.kit = kit
    }

    public var userId: String { kit.userId }

    // MARK: leads

    func listLeads(_ query: LeadQuery) async throws -> LeadPage {
        try await kit.listLeads(query)
    }

    func searchLeads(_ text: String, limit: UInt32) async throws -> [LeadSummary] {
        try await kit.searchLeads(text, limit: limit)
    }

    func createLead(_ draft: LeadDraft) async throws -> Lead {
        try await kit.createLead(draft)
    }

    func updateLead(_ id: String, _ patch: LeadPatch) async throws -> Lead {
        try await kit.updateLead(id, patch)
    }

    func leadDetail(_ id: String) async throws -> LeadDetail {
        try await kit.leadDetail(id)
    }

    /// The event of the rep's most recent capture: the capture form starts with it. Read from
    /// the store, so it survives restarts and follows the rep to a new phone.
    func lastCaptureEvent() async throws -> String? {
        let page = try await kit.listLeads(LeadQuery(owner: kit.userId, sort: .created, limit: 1))
        return page.items.first?.event
    }

    func salesSettings() async throws -> SalesSettings {
        try await offMainCall { try kit.store.salesSettings() }
    }

    // MARK: activities and follow-ups

    func addActivity(_ draft: ActivityDraft) async throws -> Activity {
        try await kit.addActivity(draft)
    }

    func completeActivity(_ id: String) async throws -> Activity {
        try await kit.completeActivity(id)
    }

    func followUps(nowMs: Int64, utcOffsetMinutes: Int32) async throws -> FollowUps {
        try await kit.followUps(nowMs: nowMs, utcOffsetMinutes: utcOffsetMinutes)
    }

    // MARK: capture

    /// Pasted or scanned text as a draft: a contact code (vCard, MECARD, a link) first, and
    /// anything else as business-card OCR text.
    func parseCapture(_ text: String) async throws -> CaptureDraft {
        try await offMainCall {
            do {
                return try kit.store.parseQr(text: text)
            } catch FieldsalesError.UnreadableCode {
                return kit.store.parseCardText(text: text)
            }
        }
    }

    /// Leads the store holds that look like `draft` (same e-mail, phone, or name at the same
    /// company), before it is saved.
    func likelyDuplicates(of draft: LeadDraft) async throws -> [LeadSummary] {
        // Waiting for the FFI's draft duplicate check (ios/README.md "Needs from the FFI").
        []
    }

    /// The form field a validation error concerns. The FFI flattens the core's
    /// `ValidationError` to its message today, so the field is read from the message's shape
    /// (the core's own wording, in one place here) until the error carries it.
    static func field(of error: FieldsalesError) -> LeadFormField? {
        guard case .Validation(let m) = error else { return nil }
        return messageShapes.first { m.contains($0.0) }?.1
    }

    /// Parts of the core's validation messages (core/src/error.rs, validate.rs, model/sales.rs
    /// `RequiredField::phrase`) and the field each one names.
    private static let messageShapes: [(String, LeadFormField)] = [
        ("not a valid e-mail address", .email), ("e-mail addresses", .email), ("needs an e-mail address", .email),
        ("not a valid phone number", .phone), ("phone numbers", .phone), ("needs a phone number", .phone),
        ("needs a deal value", .dealValue), ("a deal value must", .dealValue), ("ISO 4217", .dealValue),
        ("deal value", .dealValue), ("needs a lost reason", .lostReason), ("a lost reason can only", .lostReason),
        ("needs a company", .company), ("needs a job title", .title), ("needs a follow-up date", .followUp),
        ("needs a potential", .potential), ("a lead needs at least", .name), ("name is too long", .name),
        ("company is too long", .company), ("title is too long", .title), ("event is too long", .event),
        ("notes is too long", .notes), ("tag is too long", .tags), ("too many tags", .tags),
    ]

    // MARK: reports

    func teamReport(_ period: ReportPeriod, nowMs: Int64, utcOffsetMinutes: Int32) async throws -> SalesReport {
        try await offMainCall { try kit.store.teamReport(period: period, nowMs: nowMs, utcOffsetMinutes: utcOffsetMinutes) }
    }

    // MARK: sync

    func sync(cancel: CancelHandle, onProgress: @escaping @Sendable (SyncProgress) -> Void) async throws -> SyncSummary {
        try await kit.sync(cancel: cancel, onProgress: onProgress)
    }

    func pendingUploadCount() async throws -> Int64 {
        try await kit.pendingUploadCount()
    }

    func quarantine() async throws -> [QuarantineEntry] {
        try await kit.quarantine()
    }

    var isEnrolled: Bool { kit.isEnrolled }

    /// The machine code of a server refusal ("invalid_code"), which the FFI carries only inside
    /// the message: "… (invalid_code, HTTP 401)".
    static func serverCode(of error: FieldsalesError) -> String? {
        guard case .Server(let m) = error, m.hasSuffix(")"), let open = m.range(of: " (", options: .backwards) else { return nil }
        let inner = m[open.upperBound..<m.index(before: m.endIndex)]
        return inner.split(separator: ",").first.map(String.init)
    }

    // MARK: formatting help from the core

    /// Decimal places of an ISO 4217 currency (KRW 0, USD 2, BHD 3), as the core counts them:
    /// the core formats zero with exactly that many ("0 KRW", "0.00 USD").
    static func currencyExponent(_ code: String) -> Int {
        exponents.with { cache in
            if let e = cache[code] { return e }
            let zero = formatMoney(money: Money(amountMinor: 0, currency: code))
            let number = zero.split(separator: " ").first ?? ""
            let e = number.split(separator: ".").dropFirst().first?.count ?? 0
            cache[code] = e
            return e
        }
    }

    private static let exponents = LockedValue<[String: Int]>([:])

    /// Runs a blocking call of the generated store off the main thread.
    private func offMainCall<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The fields of the capture form and the lead detail.
public enum LeadFormField: String, CaseIterable, Sendable {
    case name, company, title, phone, email, event, potential, tags, notes, dealValue, lostReason, followUp
}

/// A value behind a lock, for caches shared across threads.
final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func with<R>(_ f: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return f(&value)
    }
}

/// A change observer on the store that calls `onChange` on the main actor, removed when this
/// object goes (a view model holds it and goes with its screen).
final class ChangeSubscription: Sendable {
    private let store: FieldStore
    private let handle: UInt64

    init(kit: FieldSalesKit, onChange: @escaping @MainActor @Sendable (ChangedRecords) -> Void) {
        store = kit.store
        handle = kit.store.addObserver(listener: ClosureListener { changed in
            Task { @MainActor in onChange(changed) }
        })
    }

    deinit {
        store.removeObserver(handle: handle)
    }
}
