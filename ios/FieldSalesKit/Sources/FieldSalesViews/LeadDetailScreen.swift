// The Lead detail screen over LeadDetailViewModel: conflicts first (one tap per value), the
// stage stepper with the deal value and lost reason fields it may ask for, the fields, the
// follow-up date, and the timeline with its "log" menu.
#if canImport(SwiftUI)
import FieldSalesKit
import FieldSalesUI
import SwiftUI

public struct LeadDetailScreen: View {
    @Bindable var model: LeadDetailViewModel
    @State private var logging: ActivityKind?
    @State private var subject = ""
    @State private var followUp = Date()

    public init(model: LeadDetailViewModel) {
        self.model = model
    }

    private var s: Strings { model.context.strings }

    public var body: some View {
        List {
            if !model.conflicts.isEmpty {
                Section(s(.conflictTitle)) {
                    ForEach(model.conflicts) { conflict in
                        VStack(alignment: .leading) {
                            Text(conflict.fieldLabel).font(.headline)
                            ForEach(conflict.values, id: \.choice) { value in
                                Button(value.shown) { Task { await model.resolve(conflict.field, choice: value.choice) } }
                                    .frame(minHeight: minTouch)
                                    .accessibilityLabel(value.accessibilityLabel)
                            }
                        }
                        .accessibilityElement(children: .contain)
                        .accessibilityLabel(conflict.accessibilityLabel)
                    }
                }
            }
            Section(s(.fieldStage)) {
                ScrollView(.horizontal, showsIndicators: false) {
                    HStack {
                        ForEach(model.stageSteps) { step in
                            Button { Task { await model.moveTo(step.stage) } } label: {
                                VStack {
                                    Image(systemName: step.isCurrent ? "largecircle.fill.circle" : step.isPassed ? "checkmark.circle.fill" : "circle")
                                    Text(step.name).font(.caption)
                                }
                                .frame(minWidth: minTouch, minHeight: minTouch)
                            }
                            .buttonStyle(.plain)
                            .accessibilityLabel(model.accessibilityLabel(.stage(step.stage)))
                        }
                    }
                }
                VStack(alignment: .leading, spacing: 4) {
                    HStack {
                        TextField(s.fieldLabel(.dealValue), text: $model.dealValueText)
                            .accessibilityLabel(model.accessibilityLabel(.dealValue))
                        #if os(iOS)
                            .keyboardType(.decimalPad)
                        #endif
                        Text(model.dealCurrency).foregroundStyle(.secondary)
                    }
                    .frame(minHeight: minTouch)
                    FieldError(text: model.fieldErrors[.dealValue])
                }
                VStack(alignment: .leading, spacing: 4) {
                    TextField(s.fieldLabel(.lostReason), text: $model.lostReasonText)
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.lostReason))
                    FieldError(text: model.fieldErrors[.lostReason])
                }
            }
            Section {
                ForEach(model.fields) { field in
                    LabeledContent(field.label, value: field.value)
                }
                HStack {
                    DatePicker(s.fieldLabel(.followUp), selection: $followUp)
                        .accessibilityLabel(model.accessibilityLabel(.followUp))
                    Button(s(.followUpSet)) {
                        Task { await model.setFollowUp(Int64(followUp.timeIntervalSince1970 * 1000)) }
                    }
                    .frame(minHeight: minTouch)
                }
                if model.followUpText != nil {
                    Button(s(.followUpClear)) { Task { await model.setFollowUp(nil) } }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.clearFollowUp))
                }
            }
            Section(s(.timelineTitle)) {
                Menu(s(.timelineTitle)) {
                    ForEach(model.logKinds, id: \.0) { kind, title in
                        Button(title) { subject = ""; logging = kind }
                            .accessibilityLabel(model.accessibilityLabel(.log(kind)))
                    }
                }
                .frame(minHeight: minTouch)
                ForEach(model.timeline) { item in
                    HStack {
                        VStack(alignment: .leading) {
                            Text("\(item.kindText) · \(item.subject)")
                            Text(item.whenText).font(.caption).foregroundStyle(.secondary)
                            if !item.notes.isEmpty { Text(item.notes).font(.footnote) }
                        }
                        Spacer()
                        if item.isOpenTask {
                            Button { Task { await model.complete(item.id) } } label: { Image(systemName: "checkmark.circle") }
                                .frame(minWidth: minTouch, minHeight: minTouch)
                                .accessibilityLabel(model.accessibilityLabel(.complete(item.id)))
                        }
                    }
                    .accessibilityElement(children: .combine)
                    .accessibilityLabel(item.accessibilityLabel)
                }
            }
            if let error = model.errorText {
                Text(error).foregroundStyle(.red)
            }
        }
        .navigationTitle(model.title)
        .task { await model.load() }
        .alert(logging.map { s(.logKind, s.activityKind($0)) } ?? "", isPresented: Binding(
            get: { logging != nil }, set: { if !$0 { logging = nil } })) {
            TextField(s.activityKind(logging ?? .note), text: $subject)
            Button(s(.save)) {
                if let kind = logging { Task { await model.log(kind, subject: subject) } }
                logging = nil
            }
            Button(s(.cancel), role: .cancel) { logging = nil }
        }
    }
}
#endif
