// Every call the view models make into the core, in one place. When the FFI grows (a field on
// validation errors, a duplicate check for a draft, unsynced marks, ...), this file is where the
// view models switch to it; ios/README.md "Needs from the FFI" lists what is still missing.

import FieldSalesKit
import Foundation

/// The store calls of the screens, over `FieldSalesKit` (which runs them off the main thread).
public struct CoreCalls: Sendable {
    public let kit: FieldSalesKit
    /// Told when a sync run from this app has finished; shared by the copies of this value.
    let syncEvents = SyncEvents()

    public init(kit: FieldSalesKit) {
        self.kit = kit
    }

    public var userId: String { kit.userId }

    /// The role the store was enrolled with (`rep`, `manager`, `admin`); nil before enrollment.
    func role() async throws -> String? {
        try await offMainCall { try kit.store.role() }
    }

    // MARK: leads

    /// A page of the list with each lead's "not synced" mark.
    func listPage(_ query: LeadQuery) async throws -> LeadListPage {
        try await offMainCall { try kit.store.listPage(query: query) }
    }

    /// Search (every word a prefix) with each lead's "not synced" mark.
    func searchPage(_ text: String, limit: UInt32) async throws -> [LeadListItem] {
        try await offMainCall { try kit.store.searchPage(text: text, limit: limit) }
    }

    /// The most used events and tags: the list's filter choices.
    func leadFacets(limit: UInt32) async throws -> LeadFacets {
        try await offMainCall { try kit.store.leadFacets(limit: limit) }
    }

    /// Keeps value `choice` of a conflict on `field` (the one-tap resolution).
    func resolveConflict(leadId: String, field: String, choice: Int) async throws -> Lead {
        try await offMainCall { try kit.store.resolveConflict(leadId: leadId, field: field, choice: UInt32(choice)) }
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

    func followUps(nowMs: Int64, timeZone: String) async throws -> FollowUps {
        try await kit.followUps(nowMs: nowMs, timeZone: timeZone)
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

    /// Stored leads that look like `draft` (same e-mail, phone, or name at the same company),
    /// before it is saved; each once, oldest first.
    func likelyDuplicates(of draft: LeadDraft) async throws -> [LeadSummary] {
        let groups = try await offMainCall { try kit.store.duplicatesOfDraft(draft: draft) }
        var seen = Set<String>()
        return groups.flatMap(\.leads).sorted { $0.createdAt < $1.createdAt }.filter { seen.insert($0.id).inserted }
    }

    /// The form field a validation error concerns, as the core names it; nil when it concerns
    /// the whole form.
    static func field(of error: FieldsalesError) -> LeadFormField? {
        guard case .Validation(_, let field?) = error else { return nil }
        switch field {
        case .name: return .name
        case .company: return .company
        case .title: return .title
        case .email: return .email
        case .phone: return .phone
        case .event: return .event
        case .potential: return .potential
        case .tags: return .tags
        case .notes: return .notes
        case .dealValue: return .dealValue
        case .lostReason: return .lostReason
        case .nextFollowUp: return .followUp
        case .owner, .stage, .customFields, .subject, .outcome, .duration, .location, .period: return nil
        }
    }

    // MARK: reports

    /// The team's report for the period holding `nowMs` and the one before, with every
    /// figure's change worked out by the core.
    func teamReportCompared(_ period: ReportPeriod, nowMs: Int64, timeZone: String) async throws -> ComparedReport {
        try await offMainCall { try kit.store.teamReportCompared(period: period, nowMs: nowMs, timeZone: timeZone) }
    }

    // MARK: sync

    func sync(cancel: CancelHandle, onProgress: @escaping @Sendable (SyncProgress) -> Void) async throws -> SyncSummary {
        try await kit.sync(cancel: cancel, onProgress: onProgress)
    }

    /// Last finished sync, changes waiting, conflicted leads, quarantined changes.
    func syncStatus() async throws -> SyncStatus {
        try await offMainCall { try kit.store.syncStatus() }
    }

    func quarantine() async throws -> [QuarantineEntry] {
        try await kit.quarantine()
    }

    var isEnrolled: Bool { kit.isEnrolled }

    /// The machine code of a server refusal ("invalid_code"), as the FFI carries it.
    static func serverCode(of error: FieldsalesError) -> String? {
        guard case .Server(_, let code, _) = error else { return nil }
        return code
    }

    // MARK: formatting help from the core

    /// Decimal places of an ISO 4217 currency (KRW 0, USD 2, BHD 3), as the core counts them.
    static func currencyExponent(_ code: String) -> Int {
        coreCurrencyExponent(code)
    }

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

/// Who wants to know that a sync finished. The core's change observer reports what a sync
/// pulled, but not the uploads it acknowledged, after which the "not synced" marks are gone;
/// the list refreshes on this instead (ios/README.md "Needs from the FFI").
final class SyncEvents: Sendable {
    private let handlers = LockedValue<[UUID: @MainActor @Sendable () -> Void]>([:])

    /// Calls `handler` after each finished sync until the returned token goes.
    func subscribe(_ handler: @escaping @MainActor @Sendable () -> Void) -> Token {
        let id = UUID()
        handlers.with { $0[id] = handler }
        return Token { [weak self] in self?.handlers.with { $0[id] = nil } }
    }

    @MainActor
    func finished() {
        for handler in handlers.with({ Array($0.values) }) { handler() }
    }

    final class Token: Sendable {
        private let cancel: @Sendable () -> Void
        init(_ cancel: @escaping @Sendable () -> Void) { self.cancel = cancel }
        deinit { cancel() }
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

/// The FFI's `currencyExponent(currency:)`, out of reach of `CoreCalls.currencyExponent(_:)`'s name.
private func coreCurrencyExponent(_ code: String) -> Int {
    Int(currencyExponent(currency: code))
}
