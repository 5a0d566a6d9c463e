import Foundation
import Observation

/// The lead list a screen shows, as an `@Observable` model: `leads` is the first page of
/// `query`, refreshed after every change to a lead — a local write or a merge from sync — told
/// by the core's change observer, so SwiftUI redraws without polling.
///
/// ```swift
/// struct LeadList: View {
///     @State var model: LeadListModel
///     var body: some View { List(model.leads, id: \.id) { Text($0.displayName) } }
/// }
/// ```
///
/// Main-actor isolated, like the views that read it. (Observation ships with the Swift 6
/// toolchain on Linux too; the tests use this same class there.)
@MainActor
@Observable
public final class LeadListModel {
    public private(set) var leads: [LeadSummary] = []
    /// The last refresh's error, if it failed.
    public private(set) var error: FieldsalesError?
    /// How many refreshes have completed (tests and "pull to refresh" spinners wait on it).
    public private(set) var refreshCount = 0
    public var query: LeadQuery {
        didSet { scheduleRefresh() }
    }

    private let kit: FieldSalesKit
    private let observer: UInt64
    @ObservationIgnored private var refreshing: Task<Void, Never>?

    public init(kit: FieldSalesKit, query: LeadQuery = LeadQuery(sort: .updated)) {
        self.kit = kit
        self.query = query
        let box = WeakBox()
        // Registered before the first refresh, so no write can slip between the two.
        observer = kit.store.addObserver(listener: ClosureListener { changed in
            guard !changed.leads.isEmpty else { return }
            Task { @MainActor in box.model?.scheduleRefresh() }
        })
        box.model = self
        scheduleRefresh()
    }

    deinit {
        kit.store.removeObserver(handle: observer)
    }

    /// Re-reads the list now. Refreshes run one after another, so the last one wins.
    public func refresh() async {
        scheduleRefresh()
        await refreshing?.value
    }

    private func scheduleRefresh() {
        let previous = refreshing
        let query = self.query
        refreshing = Task { [kit] in
            await previous?.value
            do {
                let page = try await kit.listLeads(query)
                self.leads = page.items
                self.error = nil
            } catch let e as FieldsalesError {
                self.error = e
            } catch {
                self.error = .Storage(message: "\(error)")
            }
            self.refreshCount += 1
        }
    }

    private final class WeakBox: @unchecked Sendable {
        weak var model: LeadListModel?
    }
}
