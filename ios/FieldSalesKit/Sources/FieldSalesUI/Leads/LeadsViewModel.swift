// The Leads screen: the rep's list, a page at a time from the core's keyset paging, search as
// they type, filters, sort, and marks on leads with conflicts or unsynced changes.

import FieldSalesKit
import Foundation
import Observation

/// One row of the list, ready to show.
public struct LeadRow: Identifiable, Equatable, Sendable {
    public let id: String
    public let title: String
    /// Company and job title, or the e-mail/phone when there is no company.
    public let subtitle: String
    public let stage: Stage
    public let stageText: String
    public let potential: Potential?
    public let potentialText: String?
    public let valueText: String?
    public let event: String?
    public let hasConflicts: Bool
    public let isUnsynced: Bool
    /// What a screen reader says for the row: name, company, stage and the marks.
    public let accessibilityLabel: String
}

/// What the list is narrowed to.
public struct LeadFilters: Equatable, Sendable {
    public var stages: Set<Stage> = []
    public var potential: Potential?
    public var tag: String?
    public var event: String?

    public init(stages: Set<Stage> = [], potential: Potential? = nil, tag: String? = nil, event: String? = nil) {
        self.stages = stages
        self.potential = potential
        self.tag = tag
        self.event = event
    }

    public var isEmpty: Bool { self == LeadFilters() }

    func admits(_ s: LeadSummary) -> Bool {
        (stages.isEmpty || stages.contains(s.stage)) && (potential == nil || s.potential == potential)
            && (tag.map(s.tags.contains) ?? true) && (event.map { s.event == $0 } ?? true)
    }
}

@MainActor
@Observable
public final class LeadsViewModel {
    /// Rows loaded so far: the first page, then one more page each time the rep nears the end.
    public private(set) var rows: [LeadRow] = []
    /// Whether the core has more rows after the last loaded one.
    public private(set) var hasMore = false
    public private(set) var isLoading = false
    public private(set) var errorText: String?
    /// How many loads have finished (tests and pull-to-refresh spinners wait on it).
    public private(set) var loadCount = 0

    /// What the rep typed in the search field; every keystroke searches (the last one wins).
    public var searchText = "" {
        didSet { if searchText != oldValue { reload() } }
    }
    public var filters = LeadFilters() {
        didSet { if filters != oldValue { reload() } }
    }
    public var sort: LeadSort = .updated {
        didSet { if sort != oldValue { reload() } }
    }

    public let pageSize: UInt32
    /// Search shows the best matches only, this many.
    public let searchLimit: UInt32 = 100
    public let context: UIContext
    let core: CoreCalls
    @ObservationIgnored private var next: String?
    @ObservationIgnored private var stageNames: StageNames?
    @ObservationIgnored private var facetsStale = true
    @ObservationIgnored private var facetsTask: Task<Void, Never>?
    /// The events and tags to filter by, most used first, with how many leads have each.
    public private(set) var eventOptions: [(value: String, count: String)] = []
    public private(set) var tagOptions: [(value: String, count: String)] = []
    @ObservationIgnored private var inFlight: Task<Void, Never>?
    @ObservationIgnored private var generation = 0
    @ObservationIgnored private var subscription: ChangeSubscription?
    @ObservationIgnored private var synced: SyncEvents.Token?

    public init(core: CoreCalls, context: UIContext, pageSize: UInt32 = 50) {
        self.core = core
        self.context = context
        self.pageSize = pageSize
        subscription = ChangeSubscription(kit: core.kit) { [weak self] changed in
            guard let self else { return }
            if !changed.sales.isEmpty { self.stageNames = nil }
            if !changed.leads.isEmpty { self.facetsStale = true }
            if !changed.leads.isEmpty || !changed.sales.isEmpty || !changed.activities.isEmpty { self.refreshLoaded() }
        }
        // A finished sync clears "not synced" marks without changing a lead.
        synced = core.syncEvents.subscribe { [weak self] in self?.refreshLoaded() }
        reload()
    }

    private var s: Strings { context.strings }

    // MARK: loading

    /// Waits for the loads already asked for (typing, filters, scrolling) to finish.
    public func settled() async {
        while let task = inFlight {
            await task.value
            if inFlight == task { break }
        }
    }

    /// Waits, too, for the filter choices read after the rows.
    public func facetsSettled() async {
        await settled()
        await facetsTask?.value
    }

    /// Starts over from the first page (a new search, filter or sort).
    public func reload() {
        enqueue { model in
            model.next = nil
            try await model.fetch(replacing: true, limit: model.pageSize)
        }
    }

    /// Call when a row appears on screen: near the end of what is loaded, the next page comes.
    public func rowAppeared(_ id: String) {
        guard hasMore, let index = rows.firstIndex(where: { $0.id == id }), index >= rows.count - 10 else { return }
        loadMore()
    }

    public func loadMore() {
        enqueue { model in
            guard model.hasMore else { return }
            try await model.fetch(replacing: false, limit: model.pageSize)
        }
    }

    /// After a write or a merge from sync: the rows loaded so far are read again, as many as
    /// were on screen (at most 500, one page of the core).
    private func refreshLoaded() {
        enqueue { model in
            let count = UInt32(min(max(model.rows.count, Int(model.pageSize)), 500))
            model.next = nil
            try await model.fetch(replacing: true, limit: count)
        }
    }

    private func enqueue(_ body: @escaping @MainActor (LeadsViewModel) async throws -> Void) {
        let previous = inFlight
        generation += 1
        let mine = generation
        isLoading = true
        inFlight = Task { [weak self] in
            await previous?.value
            guard let self else { return }
            do {
                try await body(self)
                self.errorText = nil
            } catch {
                self.errorText = self.context.plainError(error)
            }
            self.loadCount += 1
            // Still loading while a later request waits its turn.
            if self.generation == mine { self.isLoading = false }
        }
    }

    private func fetch(replacing: Bool, limit: UInt32) async throws {
        // The stage names (read once, and again after a manager's change) and the rows, at once.
        async let settings = stageNames == nil ? core.salesSettings() : nil
        let text = searchText.trimmingCharacters(in: .whitespacesAndNewlines)
        let items: [LeadListItem]
        if text.isEmpty {
            let page = try await core.listPage(query(limit: limit, after: replacing ? nil : next))
            items = page.items
            next = page.next
        } else {
            // Search ranks by match; the list's filters still apply to what it finds.
            items = try await core.searchPage(text, limit: searchLimit).filter { filters.admits($0.summary) }
            next = nil
        }
        if let read = try await settings { stageNames = StageNames(settings: read, strings: s) }
        let new = items.map(row)
        rows = replacing ? new : rows + new
        hasMore = next != nil
        if facetsStale { loadFacets() }
    }

    /// The filter choices (a grouping over every lead: ~100 ms on 100,000), read after the rows
    /// are on screen so the first page never waits for them.
    private func loadFacets() {
        facetsStale = false
        facetsTask = Task { [weak self, core] in
            guard let read = try? await core.leadFacets(limit: 20), let self else {
                self?.facetsStale = true
                return
            }
            self.eventOptions = read.events.map { ($0.value, self.context.formats.number(Int($0.leads))) }
            self.tagOptions = read.tags.map { ($0.value, self.context.formats.number(Int($0.leads))) }
        }
    }

    func query(limit: UInt32, after: String?) -> LeadQuery {
        LeadQuery(stages: Stage.allInOrder.filter(filters.stages.contains), potential: filters.potential, tag: filters.tag,
                  event: filters.event, sort: sort, limit: limit, after: after)
    }

    // MARK: rows and choices

    private var names: StageNames { stageNames ?? StageNames(settings: nil, strings: s) }

    func row(_ item: LeadListItem) -> LeadRow {
        let l = item.summary
        let f = context.formats
        let stageText = names.name(l.stage)
        let potentialText = l.potential.map(s.potential)
        let subtitle = [l.company.flatMap { $0 == l.displayName ? nil : $0 }, l.title, l.company == nil ? (l.email ?? l.phone) : nil]
            .compactMap { $0 }.filter { !$0.isEmpty && $0 != l.displayName }.joined(separator: " · ")
        let unsynced = item.unsynced
        var spoken = [l.displayName, subtitle, stageText]
        if let potentialText { spoken.append(potentialText) }
        if l.hasConflicts { spoken.append(s(.markConflict)) }
        if unsynced { spoken.append(s(.markUnsynced)) }
        return LeadRow(id: l.id, title: l.displayName.isEmpty ? s(.leadNoName) : l.displayName, subtitle: subtitle,
                       stage: l.stage, stageText: stageText, potential: l.potential, potentialText: potentialText,
                       valueText: l.dealValue.map(f.money), event: l.event, hasConflicts: l.hasConflicts, isUnsynced: unsynced,
                       accessibilityLabel: spoken.filter { !$0.isEmpty }.joined(separator: ", "))
    }

    /// The sort choices, in the order the menu lists them.
    public var sortOptions: [(LeadSort, String)] {
        [(.updated, s(.sortUpdated)), (.created, s(.sortCreated)), (.name, s(.sortName)), (.value, s(.sortValue))]
    }

    /// The stage filter chips.
    public var stageOptions: [(Stage, String)] {
        Stage.allInOrder.map { ($0, names.name($0)) }
    }

    public var potentialOptions: [(Potential, String)] {
        [Potential.hot, .warm, .cold].map { ($0, s.potential($0)) }
    }

    /// Turns a stage chip on or off.
    public func toggleStage(_ stage: Stage) {
        if filters.stages.contains(stage) { filters.stages.remove(stage) } else { filters.stages.insert(stage) }
    }

    public func clearFilters() {
        filters = LeadFilters()
    }

    /// What the empty list says: nothing captured yet, or nothing matches.
    public var emptyText: String? {
        guard rows.isEmpty, !isLoading, errorText == nil else { return nil }
        if !searchText.trimmingCharacters(in: .whitespaces).isEmpty { return s(.leadsNoMatch, searchText) }
        return filters.isEmpty ? s(.leadsEmpty) : s(.leadsNoneFiltered)
    }

    public var title: String { s(.leadsTitle) }

    /// Labels a screen reader reads for the screen's controls.
    public func accessibilityLabel(_ control: Control) -> String {
        switch control {
        case .search: return s(.a11ySearchLeads)
        case .sort: return s(.a11ySortLeads, sortOptions.first { $0.0 == sort }?.1 ?? "")
        case .stageChip(let st): return s(filters.stages.contains(st) ? .a11yFilterOn : .a11yFilterOff, names.name(st))
        case .potentialChip(let p): return s(filters.potential == p ? .a11yFilterOn : .a11yFilterOff, s.potential(p))
        case .eventChip(let e): return s(filters.event == e ? .a11yFilterOn : .a11yFilterOff, "\(s(.fieldEvent)) \(e)")
        case .tagChip(let t): return s(filters.tag == t ? .a11yFilterOn : .a11yFilterOff, "\(s(.fieldTags)) \(t)")
        case .clearFilters: return s(.a11yClearFilters)
        case .capture: return s(.a11yCaptureLead)
        }
    }

    public enum Control: Hashable, Sendable {
        case search, sort, stageChip(Stage), potentialChip(Potential), eventChip(String), tagChip(String), clearFilters, capture
    }
}

extension Stage {
    /// The sales process in order, lost last.
    public static let allInOrder: [Stage] = [.new, .contacted, .qualified, .proposal, .negotiation, .won, .lost]
}
