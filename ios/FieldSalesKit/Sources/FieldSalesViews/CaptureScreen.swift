// The Capture screen over CaptureViewModel: the fields in the model's booth-first order, each
// with its error under it; potential chips; tags; paste and scan; the duplicate warning.
#if canImport(SwiftUI)
import FieldSalesKit
import FieldSalesUI
import SwiftUI

public struct CaptureScreen: View {
    @Bindable var model: CaptureViewModel
    /// The app's scanner (VisionKit's DataScannerViewController, say): returns the text read.
    let scan: (() async -> String?)?
    let openLead: (String) -> Void

    public init(model: CaptureViewModel, scan: (() async -> String?)? = nil, openLead: @escaping (String) -> Void) {
        self.model = model
        self.scan = scan
        self.openLead = openLead
    }

    private var s: Strings { model.context.strings }

    public var body: some View {
        Form {
            Section {
                HStack {
                    PasteButton(payloadType: String.self) { texts in
                        Task { await model.fill(fromText: texts.joined(separator: "\n")) }
                    }
                    .accessibilityLabel(model.accessibilityLabel(.paste))
                    if let scan {
                        Button {
                            Task { if let text = await scan() { await model.fill(fromText: text) } }
                        } label: {
                            Label(s(.captureScan), systemImage: "qrcode.viewfinder")
                        }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.scan))
                    }
                }
                if let error = model.formError { Text(error).foregroundStyle(.red) }
                ForEach(model.unplaced, id: \.self) { Text($0).font(.footnote).foregroundStyle(.secondary) }
            }
            if let dup = model.duplicate {
                Section {
                    Text(dup.text)
                    Button(s(.captureOpenExisting)) { model.openDuplicate() }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.openDuplicate))
                    Button(s(.captureSaveAnyway)) { Task { await model.saveAnyway() } }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.saveAnyway))
                }
            }
            Section {
                ForEach(model.fieldOrder, id: \.self) { field in
                    fieldView(field)
                }
            }
        }
        .navigationTitle(s(.captureTitle))
        .task { await model.prepare() }
        .onChange(of: model.openLeadId) { _, id in
            if let id { openLead(id); model.didOpenLead() }
        }
        .toolbar {
            ToolbarItem(placement: .confirmationAction) {
                Button(s(.save)) { Task { await model.save() } }
                    .disabled(!model.canSave)
                    .frame(minWidth: minTouch, minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.save))
            }
        }
    }

    @ViewBuilder
    private func fieldView(_ field: LeadFormField) -> some View {
        switch field {
        case .potential:
            HStack {
                ForEach([Potential.hot, .warm, .cold], id: \.self) { p in
                    Chip(title: s.potential(p), isOn: model.potential == p,
                         accessibilityLabel: model.accessibilityLabel(.potential(p))) { model.tapPotential(p) }
                }
            }
        case .tags:
            VStack(alignment: .leading) {
                HStack {
                    TextField(model.label(.tags), text: $model.tagInput)
                        .onSubmit { model.addTag() }
                        .accessibilityLabel(model.accessibilityLabel(.field(.tags)))
                    Button { model.addTag() } label: { Image(systemName: "plus.circle") }
                        .frame(minWidth: minTouch, minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.addTag))
                }
                ScrollView(.horizontal) {
                    HStack {
                        ForEach(model.tags, id: \.self) { tag in
                            Chip(title: "\(tag) ✕", isOn: true, accessibilityLabel: model.accessibilityLabel(.removeTag(tag))) {
                                model.removeTag(tag)
                            }
                        }
                    }
                }
            }
        case .notes:
            TextField(model.label(.notes), text: $model.notes, axis: .vertical)
                .lineLimit(3...8)
                .accessibilityLabel(model.accessibilityLabel(.field(.notes)))
        default:
            if let binding = textBinding(field) {
                VStack(alignment: .leading, spacing: 4) {
                    TextField(model.label(field), text: binding)
                        .frame(minHeight: minTouch)
                        .background(model.toCheck.contains(field) ? Color.yellow.opacity(0.2) : Color.clear)
                        .accessibilityLabel(model.accessibilityLabel(.field(field)))
                    #if os(iOS)
                        .keyboardType(field == .email ? .emailAddress : field == .phone ? .phonePad : .default)
                        .textInputAutocapitalization(field == .email ? .never : .words)
                    #endif
                    FieldError(text: model.fieldErrors[field])
                }
            }
        }
    }

    private func textBinding(_ field: LeadFormField) -> Binding<String>? {
        switch field {
        case .name: return $model.name
        case .company: return $model.company
        case .phone: return $model.phone
        case .email: return $model.email
        case .title: return $model.title
        case .event: return $model.event
        default: return nil
        }
    }
}
#endif
