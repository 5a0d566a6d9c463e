// The app's session: which store is open (none before enrollment), and the view models of its
// screens. A SwiftUI app holds one and shows Enroll or the tabs from `core`.

import FieldSalesKit
import Foundation
import Observation

@MainActor
@Observable
public final class AppSession {
    public let storePath: String
    public let region: String
    public let context: UIContext
    /// The open store; nil until the device is enrolled (the Enroll screen shows).
    public private(set) var core: CoreCalls?
    public private(set) var errorText: String?
    /// Whether the Team tab shows: on a manager's or an admin's device (and on a store not
    /// enrolled yet, which holds only its own user's work); a rep's device has no team to show.
    public private(set) var showsTeam = true

    public init(storePath: String, region: String, context: UIContext) {
        self.storePath = storePath
        self.region = region
        self.context = context
    }

    /// Opens the store if this device has one (it belongs to whoever enrolled it).
    public func start() async {
        do {
            if let user = try peekStoreUser(path: storePath) {
                await opened(try await FieldSalesKit.open(path: storePath, userId: user, region: region))
            }
        } catch {
            errorText = context.plainError(error)
        }
    }

    /// Enrolls this device and opens its store.
    public func enroll(server: String, code: String, deviceName: String) async throws {
        let kit = try await FieldSalesKit.enroll(path: storePath, region: region, server: server, code: code, deviceName: deviceName)
        await opened(kit)
    }

    private func opened(_ kit: FieldSalesKit) async {
        let calls = CoreCalls(kit: kit)
        // `try?` flattens: nil when unreadable or not enrolled, and then the tab shows.
        let role = try? await calls.role()
        showsTeam = role != "rep"
        core = calls
    }

    /// Closes the store and removes it from the device (the Sync screen asks first when changes
    /// are waiting). The Enroll screen shows next.
    public func signOut() async throws {
        core = nil
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: storePath + suffix) {
            try fm.removeItem(atPath: storePath + suffix)
        }
    }

    // MARK: the screens' view models

    public func enrollModel(deviceName: String) -> EnrollViewModel {
        EnrollViewModel(context: context, deviceName: deviceName) { [weak self] server, code, name in
            try await self?.enroll(server: server, code: code, deviceName: name)
        }
    }

    public func leadsModel(_ core: CoreCalls) -> LeadsViewModel { LeadsViewModel(core: core, context: context) }
    public func captureModel(_ core: CoreCalls) -> CaptureViewModel { CaptureViewModel(core: core, context: context) }
    public func detailModel(_ core: CoreCalls, leadId: String) -> LeadDetailViewModel {
        LeadDetailViewModel(core: core, context: context, leadId: leadId)
    }
    public func todayModel(_ core: CoreCalls) -> TodayViewModel { TodayViewModel(core: core, context: context) }
    public func teamModel(_ core: CoreCalls) -> TeamViewModel { TeamViewModel(core: core, context: context) }
    public func syncModel(_ core: CoreCalls) -> SyncViewModel {
        SyncViewModel(core: core, context: context) { [weak self] in
            try await self?.signOut()
        }
    }
}
