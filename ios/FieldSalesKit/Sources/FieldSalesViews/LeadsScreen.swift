// The Leads screen over LeadsViewModel: rows as the model makes them, search, filter chips,
// sort menu, marks. Pages load as rows appear.
#if canImport(SwiftUI)
import FieldSalesKit
import FieldSalesUI
import SwiftUI

public struct LeadsScreen: View {
    @Bindable var model: LeadsViewModel
    let open: (String) -> Void
    let capture: () -> Void

    public init(model: LeadsViewModel, open: @escaping (String) -> Void, capture: @escaping () -> Void) {
        self.model = model
        self.open = open
        self.capture = capture
    }

    private var s: Strings { model.context.strings }

    public var body: some View {
        List {
            Section {
                ScrollView(.horizontal, showsIndicators: false) {
                    HStack {
                        ForEach(model.stageOptions, id: \.0) { stage, name in
                            Chip(title: name, isOn: model.filters.stages.contains(stage),
                                 accessibilityLabel: model.accessibilityLabel(.stageChip(stage))) { model.toggleStage(stage) }
                        }
                        ForEach(model.potentialOptions, id: \.0) { potential, name in
                            Chip(title: name, isOn: model.filters.potential == potential,
                                 accessibilityLabel: model.accessibilityLabel(.potentialChip(potential))) {
                                model.filters.potential = model.filters.potential == potential ? nil : potential
                            }
                        }
                        ForEach(model.eventOptions, id: \.value) { event in
                            Chip(title: "\(event.value) (\(event.count))", isOn: model.filters.event == event.value,
                                 accessibilityLabel: model.accessibilityLabel(.eventChip(event.value))) {
                                model.filters.event = model.filters.event == event.value ? nil : event.value
                            }
                        }
                        ForEach(model.tagOptions, id: \.value) { tag in
                            Chip(title: "#\(tag.value) (\(tag.count))", isOn: model.filters.tag == tag.value,
                                 accessibilityLabel: model.accessibilityLabel(.tagChip(tag.value))) {
                                model.filters.tag = model.filters.tag == tag.value ? nil : tag.value
                            }
                        }
                        if !model.filters.isEmpty {
                            Button { model.clearFilters() } label: { Image(systemName: "xmark.circle") }
                                .frame(minWidth: minTouch, minHeight: minTouch)
                                .accessibilityLabel(model.accessibilityLabel(.clearFilters))
                        }
                    }
                }
            }
            ForEach(model.rows) { row in
                Button { open(row.id) } label: { LeadRowView(row: row) }
                    .frame(minHeight: minTouch)
                    .accessibilityLabel(row.accessibilityLabel)
                    .onAppear { model.rowAppeared(row.id) }
            }
            if model.hasMore {
                ProgressView(s(.leadsLoadingMore)).onAppear { model.loadMore() }
            }
            if let empty = model.emptyText {
                Text(empty).foregroundStyle(.secondary)
            }
            if let error = model.errorText {
                Text(error).foregroundStyle(.red)
            }
        }
        .navigationTitle(model.title)
        .searchable(text: $model.searchText, prompt: Text(s(.leadsSearchPlaceholder)))
        .refreshable { model.reload(); await model.settled() }
        .toolbar {
            ToolbarItem(placement: .primaryAction) {
                Button(action: capture) { Image(systemName: "plus") }
                    .frame(minWidth: minTouch, minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.capture))
            }
            ToolbarItem {
                Menu {
                    Picker(s(.leadsFilters), selection: $model.sort) {
                        ForEach(model.sortOptions, id: \.0) { sort, name in Text(name).tag(sort) }
                    }
                } label: {
                    Image(systemName: "arrow.up.arrow.down")
                }
                .frame(minWidth: minTouch, minHeight: minTouch)
                .accessibilityLabel(model.accessibilityLabel(.sort))
            }
        }
    }
}

struct LeadRowView: View {
    let row: LeadRow

    var body: some View {
        HStack(alignment: .firstTextBaseline) {
            VStack(alignment: .leading, spacing: 2) {
                Text(row.title).font(.headline)
                if !row.subtitle.isEmpty { Text(row.subtitle).font(.subheadline).foregroundStyle(.secondary) }
                HStack(spacing: 6) {
                    Text(row.stageText)
                    if let p = row.potentialText { Text("· \(p)") }
                    if let v = row.valueText { Text("· \(v)") }
                }
                .font(.caption)
                .foregroundStyle(.secondary)
            }
            Spacer()
            if row.hasConflicts { Image(systemName: "exclamationmark.triangle.fill").foregroundStyle(.orange) }
            if row.isUnsynced { Image(systemName: "icloud.slash").foregroundStyle(.secondary) }
        }
        .accessibilityElement(children: .ignore)
        .accessibilityLabel(row.accessibilityLabel)
    }
}
#endif
