// The Sync screen: when the phone last synced, how many changes wait, a progress bar with
// cancel while syncing, what went wrong in plain words, the changes the server refused, and
// signing out (which asks first, saying how many changes would be lost).

import FieldSalesKit
import Foundation
import Observation

/// A change the server refused, as the quarantine list shows it.
public struct QuarantineRow: Identifiable, Equatable, Sendable {
    public let id: Int64
    public let title: String
    public let reason: String
    public let whenText: String
    public let accessibilityLabel: String
}

/// A question the screen asks before doing something that cannot be undone.
public struct Confirmation: Equatable, Sendable {
    public let message: String
    public let confirmLabel: String
    public let cancelLabel: String
}

@MainActor
@Observable
public final class SyncViewModel {
    public private(set) var lastSyncedText: String
    /// Local changes the server has not acknowledged yet.
    public private(set) var waiting: Int64 = 0
    public private(set) var waitingText = ""
    public private(set) var isSyncing = false
    /// 0…1 while syncing (sending is the first half, receiving the second); nil otherwise.
    public private(set) var progress: Double?
    public private(set) var progressText: String?
    /// The outcome of the last sync in words: what was sent and received, or what went wrong.
    public private(set) var statusText: String?
    public private(set) var errorText: String?
    public private(set) var quarantine: [QuarantineRow] = []
    /// Set while the screen asks before signing out.
    public private(set) var confirmation: Confirmation?
    /// Every value the progress bar showed during the last sync, in order (diagnostics, tests).
    @ObservationIgnored public private(set) var progressLog: [Double] = []
    /// Told every step of a running sync on the sync's own thread, before the bar moves; the
    /// sync waits for it (a log, or a test that holds a sync half-way to cancel it).
    @ObservationIgnored public var onStep: (@Sendable (SyncProgress) -> Void)?

    public let context: UIContext
    let core: CoreCalls
    private let signOutAction: @MainActor () async throws -> Void
    @ObservationIgnored private var cancelHandle: CancelHandle?
    @ObservationIgnored private var subscription: ChangeSubscription?

    /// `signOut` closes and removes the store (the app's session does it); it runs only after
    /// the rep confirmed when changes were waiting.
    public init(core: CoreCalls, context: UIContext, signOut: @escaping @MainActor () async throws -> Void) {
        self.core = core
        self.context = context
        signOutAction = signOut
        lastSyncedText = context.strings(.syncNever)
        subscription = ChangeSubscription(kit: core.kit) { [weak self] _ in
            guard let self, !self.isSyncing else { return }
            Task { await self.refreshCounts() }
        }
    }

    private var s: Strings { context.strings }

    /// Reads the last sync time, the waiting count and the quarantine.
    public func load() async {
        await refreshCounts()
    }

    private func refreshCounts() async {
        do {
            let status = try await core.syncStatus()
            waiting = Int64(status.waiting)
            waitingText = waiting == 0 ? s(.syncAllSent) : s(waiting == 1 ? .syncWaitingOne : .syncWaitingMany, context.formats.number(Int(waiting)))
            lastSyncedText = status.lastSyncedAt.map { s(.syncLastSynced, context.formats.dateTime($0)) } ?? s(.syncNever)
            quarantine = status.quarantined == 0 ? [] : try await core.quarantine().map(row)
        } catch {
            errorText = context.plainError(error)
        }
    }

    private func row(_ q: QuarantineEntry) -> QuarantineRow {
        let name = Self.name(inSummary: q.summaryJson)
        let kind = s.recordKind(q.kind)
        let title = name.map { "\(kind): \($0)" } ?? kind
        let when = context.formats.dateTime(q.at)
        return QuarantineRow(id: q.id, title: title, reason: q.reason, whenText: when,
                             accessibilityLabel: s(.a11yQuarantined, title, q.reason, when))
    }

    /// The name (or subject) in a quarantined change's JSON summary, if it has one.
    nonisolated static func name(inSummary json: String?) -> String? {
        guard let data = json?.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        for key in ["name", "company", "subject"] {
            if let v = object[key] as? String, !v.isEmpty { return v }
        }
        return nil
    }

    // MARK: syncing

    /// Pushes and pulls, showing progress; `cancel()` stops it at the next step.
    public func sync() async {
        guard !isSyncing else { return }
        guard core.isEnrolled else {
            errorText = s(.errorNotEnrolled)
            return
        }
        let handle = CancelHandle()
        cancelHandle = handle
        isSyncing = true
        progress = 0
        progressLog = [0]
        progressText = s(.syncStarting)
        errorText = nil
        statusText = nil
        let latest = LockedValue<SyncProgress?>(nil)
        let step = onStep
        do {
            let summary = try await core.sync(cancel: handle) { [weak self] p in
                step?(p)
                latest.with { $0 = p }
                Task { @MainActor in self?.show(latest.with { $0 }) }
            }
            statusText = summaryText(summary)
            if summary.rejected > 0 {
                errorText = s(summary.rejected == 1 ? .syncRejectedOne : .syncRejected, context.formats.number(Int(summary.rejected)))
            }
        } catch {
            errorText = context.plainError(error)
            if case .Cancelled? = error as? FieldsalesError {
                errorText = nil
                statusText = s(.syncCancelled)
            }
        }
        isSyncing = false
        cancelHandle = nil
        progress = nil
        progressText = nil
        core.syncEvents.finished()
        await load()
    }

    public func cancel() {
        cancelHandle?.cancel()
    }

    private func show(_ p: SyncProgress?) {
        guard isSyncing, let p else { return }
        let share = p.total > 0 ? min(Double(p.done) / Double(p.total), 1) : 0
        let value = p.phase == .push ? share / 2 : 0.5 + share / 2
        guard value >= (progress ?? 0) else { return }
        progress = value
        progressLog.append(value)
        let n = context.formats
        progressText = p.phase == .push
            ? s(.syncSending, n.number(Int(p.done)), n.number(Int(p.total)))
            : s(.syncReceiving, n.number(Int(p.done)))
    }

    private func summaryText(_ sum: SyncSummary) -> String {
        let n = context.formats
        var parts = [s(.syncSummary, n.number(Int(sum.sent)), n.number(Int(sum.received)))]
        if sum.conflicts > 0 { parts.append(s(.syncConflicts, n.number(Int(sum.conflicts)))) }
        return parts.joined(separator: " ")
    }

    // MARK: signing out

    /// Signing out removes this phone's copy. With changes still waiting it asks first and says
    /// how many would be lost; with none it goes ahead.
    public func requestSignOut() async {
        await refreshCounts()
        if waiting > 0 {
            confirmation = Confirmation(
                message: s(waiting == 1 ? .signOutUnsyncedOne : .signOutUnsyncedMany, context.formats.number(Int(waiting))),
                confirmLabel: s(.signOutAnyway), cancelLabel: s(.signOutSyncFirst))
        } else {
            await signOutNow()
        }
    }

    public func confirmSignOut() async {
        guard confirmation != nil else { return }
        confirmation = nil
        await signOutNow()
    }

    public func cancelSignOut() {
        confirmation = nil
    }

    private func signOutNow() async {
        do {
            try await signOutAction()
        } catch {
            errorText = context.plainError(error)
        }
    }

    // MARK: labels

    public func accessibilityLabel(_ control: Control) -> String {
        switch control {
        case .sync: return isSyncing ? s(.a11ySyncing, progressText ?? "") : s(.a11ySyncNow, waitingText)
        case .cancel: return s(.a11yCancelSync)
        case .progress: return s(.a11ySyncProgress, context.formats.percent(progress))
        case .signOut: return s(.a11ySignOut)
        case .confirmSignOut: return confirmation?.confirmLabel ?? s(.signOutAnyway)
        case .cancelSignOut: return confirmation?.cancelLabel ?? s(.signOutSyncFirst)
        }
    }

    public enum Control: Hashable, Sendable {
        case sync, cancel, progress, signOut, confirmSignOut, cancelSignOut
    }

    public var syncButtonTitle: String { s(.syncNow) }
    public var cancelButtonTitle: String { s(.cancel) }
    public var signOutButtonTitle: String { s(.signOut) }
}
