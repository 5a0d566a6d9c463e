// Small pieces the screens share. Like every file of this module, SwiftUI only: it compiles on
// Apple platforms and is left out on Linux, where the view models are built and tested.
#if canImport(SwiftUI)
import FieldSalesUI
import SwiftUI

/// 48-point touch targets, the minimum (Apple's own is 44).
let minTouch: CGFloat = 48

/// A validation message under its field, read out with the field.
struct FieldError: View {
    let text: String?

    var body: some View {
        if let text {
            Text(text)
                .font(.footnote)
                .foregroundStyle(.red)
                .accessibilityHidden(true) // the field's own label already says it
        }
    }
}

/// A change against the previous period: an arrow and the text, coloured by direction.
struct ChangeBadge: View {
    let change: FigureChange?

    var body: some View {
        if let change {
            Label(change.text, systemImage: symbol(change.trend))
                .font(.caption)
                .foregroundStyle(change.trend == .up ? .green : change.trend == .down ? .red : .secondary)
                .accessibilityLabel(change.accessibilityLabel)
        }
    }

    private func symbol(_ t: FigureChange.Trend) -> String {
        switch t {
        case .up: return "arrow.up.right"
        case .down: return "arrow.down.right"
        case .flat: return "equal"
        }
    }
}

/// A chip that is on or off (filters, potential).
struct Chip: View {
    let title: String
    let isOn: Bool
    let accessibilityLabel: String
    let action: () -> Void

    var body: some View {
        Button(action: action) {
            Text(title)
                .padding(.horizontal, 12)
                .frame(minHeight: minTouch)
                .background(isOn ? Color.accentColor.opacity(0.2) : Color.secondary.opacity(0.1), in: Capsule())
        }
        .buttonStyle(.plain)
        .accessibilityLabel(accessibilityLabel)
        .accessibilityAddTraits(isOn ? .isSelected : [])
    }
}
#endif
