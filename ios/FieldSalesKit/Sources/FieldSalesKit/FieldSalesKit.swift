// A thin async/await layer over the generated bindings (module FieldSalesCore, re-exported):
// store calls run off the caller's thread, sync is an async call with a progress closure and
// Task cancellation, and changes arrive as an AsyncStream. LeadListModel.swift has the
// @Observable lead list.

import Foundation
@_exported import FieldSalesCore

/// One user's offline store, its edits and lists as async calls, and sync.
///
/// ```swift
/// let kit = try await FieldSalesKit.open(path: dbURL.path, userId: "rep-kim", region: "KR")
/// let lead = try await kit.createLead(LeadDraft(name: "김민지", company: "Acme Korea"))
/// let page = try await kit.listLeads(LeadQuery(sort: .updated))
/// ```
///
/// `store` is the generated `FieldStore`, for anything not wrapped here. The store closes when
/// the last reference to it goes.
public final class FieldSalesKit: Sendable {
    public let store: FieldStore

    public init(store: FieldStore) {
        self.store = store
    }

    /// Opens (creating if needed) the store at `path` for `userId`; `region` (ISO 3166, "KR")
    /// reads phone numbers typed without a country code.
    public static func open(path: String, userId: String, region: String) async throws -> FieldSalesKit {
        try await offMain { FieldSalesKit(store: try FieldStore.open(path: path, userId: userId, region: region)) }
    }

    /// Enrolls this device with a one-time `code` from the admin and returns its store, ready to
    /// sync. A new store is created for the enrolled user with the actor id the server now knows;
    /// an existing store keeps its actor and must belong to that same user.
    public static func enroll(path: String, region: String, server: String, code: String, deviceName: String) async throws -> FieldSalesKit {
        if let user = try await offMain({ try peekStoreUser(path: path) }) {
            let kit = try await open(path: path, userId: user, region: region)
            // The server refuses a code for anyone else before using it up; a store enrolled
            // again gets its device back and sends what waited in it.
            let credentials = try await FieldSalesCore.enrollAs(server: server, code: code, deviceName: deviceName, actorId: kit.store.actorId(), userId: user)
            guard credentials.userId == user else {
                throw FieldsalesError.WrongUser(message: "this code enrolls user '\(credentials.userId)', but the store at \(path) belongs to '\(user)'")
            }
            try await offMain { try kit.store.saveCredentials(credentials: credentials) }
            return kit
        }
        let actor = newActorId()
        let credentials = try await FieldSalesCore.enroll(server: server, code: code, deviceName: deviceName, actorId: actor)
        return try await offMain {
            let store = try FieldStore.openWithActor(path: path, userId: credentials.userId, region: region, actorId: actor)
            try store.saveCredentials(credentials: credentials)
            return FieldSalesKit(store: store)
        }
    }

    public var userId: String { store.userId() }
    public var isEnrolled: Bool { store.isEnrolled() }

    // MARK: leads

    public func createLead(_ draft: LeadDraft) async throws -> Lead {
        try await offMain { try self.store.createLead(draft: draft) }
    }

    public func createLeads(_ drafts: [LeadDraft]) async throws -> [Lead] {
        try await offMain { try self.store.createLeads(drafts: drafts) }
    }

    public func updateLead(_ id: String, _ patch: LeadPatch) async throws -> Lead {
        try await offMain { try self.store.updateLead(id: id, patch: patch) }
    }

    public func deleteLead(_ id: String) async throws -> Lead {
        try await offMain { try self.store.deleteLead(id: id) }
    }

    public func restoreLead(_ id: String) async throws -> Lead {
        try await offMain { try self.store.restoreLead(id: id) }
    }

    public func lead(_ id: String) async throws -> Lead {
        try await offMain { try self.store.lead(id: id) }
    }

    public func leadDetail(_ id: String) async throws -> LeadDetail {
        try await offMain { try self.store.leadDetail(id: id) }
    }

    public func listLeads(_ query: LeadQuery = LeadQuery(sort: .updated)) async throws -> LeadPage {
        try await offMain { try self.store.listLeads(query: query) }
    }

    public func searchLeads(_ text: String, limit: UInt32 = 50) async throws -> [LeadSummary] {
        try await offMain { try self.store.searchLeads(text: text, limit: limit) }
    }

    public func followUps(nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
                          timeZone: String = TimeZone.current.identifier) async throws -> FollowUps {
        try await offMain { try self.store.followUps(nowMs: nowMs, timeZone: timeZone) }
    }

    // MARK: activities

    public func addActivity(_ draft: ActivityDraft) async throws -> Activity {
        try await offMain { try self.store.addActivity(draft: draft) }
    }

    public func updateActivity(_ id: String, _ patch: ActivityPatch) async throws -> Activity {
        try await offMain { try self.store.updateActivity(id: id, patch: patch) }
    }

    public func completeActivity(_ id: String) async throws -> Activity {
        try await offMain { try self.store.completeActivity(id: id) }
    }

    public func deleteActivity(_ id: String) async throws -> Activity {
        try await offMain { try self.store.deleteActivity(id: id) }
    }

    // MARK: changes

    /// Every committed local write and merge from sync, as the core's change observer reports
    /// them. The observer is removed when the stream's consumer stops.
    public func changes() -> AsyncStream<ChangedRecords> {
        AsyncStream { continuation in
            let handle = store.addObserver(listener: ClosureListener { continuation.yield($0) })
            continuation.onTermination = { [store] _ in store.removeObserver(handle: handle) }
        }
    }

    // MARK: sync

    /// Pushes local changes, then pulls until caught up. Cancelling the calling Task, or
    /// `cancel`, stops it at the next step boundary with nothing half-applied (it then throws
    /// `FieldsalesError.Cancelled`); the next sync carries on.
    public func sync(cancel: CancelHandle = CancelHandle(), onProgress: (@Sendable (SyncProgress) -> Void)? = nil) async throws -> SyncSummary {
        let listener = onProgress.map { ClosureProgressListener($0) }
        return try await withTaskCancellationHandler {
            try await store.sync(listener: listener, cancel: cancel)
        } onCancel: {
            cancel.cancel()
        }
    }

    public func quarantine() async throws -> [QuarantineEntry] {
        try await offMain { try self.store.quarantine() }
    }

    /// One refused change: what it did field by field, why, and what can be done.
    public func quarantineEntry(_ id: Int64) async throws -> QuarantineEntry {
        try await offMain { try self.store.quarantineEntry(id: id) }
    }

    /// Re-applies a refused change where the user may (see `FieldStore.quarantineApply`).
    public func applyQuarantined(_ id: Int64) async throws -> QuarantineApplied {
        try await offMain { try self.store.quarantineApply(id: id) }
    }

    /// Drops a refused change for good.
    public func discardQuarantined(_ id: Int64) async throws -> QuarantineEntry {
        try await offMain { try self.store.quarantineDiscard(id: id) }
    }

    public func pendingUploadCount() async throws -> Int64 {
        try await offMain { try self.store.pendingUploadCount() }
    }
}

extension FieldsalesError {
    /// The message for people, whatever the case.
    public var message: String {
        switch self {
        case .Validation(let m, _), .NotFound(let m), .AlreadyExists(let m), .WrongUser(let m), .WrongKey(let m), .Forbidden(let m), .InvalidData(let m),
             .Storage(let m), .NotEnrolled(let m), .Unauthorized(let m), .Network(let m), .Server(let m, _, _),
             .Cancelled(let m), .Sync(let m), .UnreadableCode(let m):
            return m
        }
    }
}

/// A `ChangeListener` calling a closure (on the thread that wrote).
public final class ClosureListener: ChangeListener, @unchecked Sendable {
    private let f: @Sendable (ChangedRecords) -> Void
    public init(_ f: @escaping @Sendable (ChangedRecords) -> Void) { self.f = f }
    public func onChange(changed: ChangedRecords) { f(changed) }
}

final class ClosureProgressListener: SyncProgressListener, @unchecked Sendable {
    private let f: @Sendable (SyncProgress) -> Void
    init(_ f: @escaping @Sendable (SyncProgress) -> Void) { self.f = f }
    func onProgress(progress: SyncProgress) { f(progress) }
}

/// Runs a blocking store call on a global dispatch queue, so that neither the main thread nor
/// Swift's cooperative thread pool waits on SQLite.
func offMain<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try body() })
        }
    }
}
