// The Team screen over TeamViewModel: the period picker, headline figures with their change,
// the funnel and the targets' attainment drawn with Swift Charts, pipeline, response times,
// reps and commission.
#if canImport(SwiftUI)
import Charts
import FieldSalesUI
import SwiftUI

public struct TeamScreen: View {
    @Bindable var model: TeamViewModel

    public init(model: TeamViewModel) {
        self.model = model
    }

    private var s: Strings { model.context.strings }

    public var body: some View {
        List {
            Section {
                Picker(s(.teamTitle), selection: $model.period) {
                    ForEach(model.periodOptions, id: \.0) { period, name in
                        Text(name).tag(period).accessibilityLabel(model.accessibilityLabel(.period(period)))
                    }
                }
                .pickerStyle(.segmented)
                .frame(minHeight: minTouch)
                Text(model.periodText).font(.caption).foregroundStyle(.secondary)
            }
            Section {
                ForEach(model.figures) { figure in
                    HStack {
                        Text(figure.label)
                        Spacer()
                        Text(figure.value).bold()
                        ChangeBadge(change: figure.change)
                    }
                    .accessibilityElement(children: .ignore)
                    .accessibilityLabel(figure.accessibilityLabel)
                }
            }
            Section(s(.teamFunnel)) {
                Chart(model.funnel) { bar in
                    BarMark(x: .value(s(.teamCaptured), bar.reached), y: .value(s(.fieldStage), bar.name))
                        .annotation(position: .trailing) { Text(bar.conversionText).font(.caption2) }
                }
                .frame(height: CGFloat(40 * max(model.funnel.count, 1)))
                .accessibilityLabel(model.accessibilityLabel(.funnelChart))
            }
            Section(s(.teamPipeline)) {
                ForEach(model.pipeline) { row in
                    HStack {
                        Text("\(row.name) (\(row.leads))")
                        Spacer()
                        VStack(alignment: .trailing) {
                            Text(row.valueText)
                            Text("\(s(.teamPipelineWeighted)) \(row.weightedText) · \(row.probabilityText)")
                                .font(.caption).foregroundStyle(.secondary)
                        }
                    }
                    .accessibilityElement(children: .ignore)
                    .accessibilityLabel(row.accessibilityLabel)
                }
                LabeledContent(s(.teamPipelineRaw), value: model.pipelineTotalText)
                LabeledContent(s(.teamPipelineWeighted), value: model.pipelineWeightedText)
            }
            Section(s(.teamResponse)) {
                ForEach(model.response) { share in
                    LabeledContent(share.label, value: share.text)
                }
            }
            Section(s(.teamReps)) {
                ForEach(model.reps) { rep in
                    HStack {
                        Text(rep.owner)
                        Spacer()
                        Text("\(rep.winRateText) · \(rep.wonValueText)")
                        ChangeBadge(change: rep.wonValueChange)
                    }
                    .accessibilityElement(children: .ignore)
                    .accessibilityLabel(rep.accessibilityLabel)
                }
            }
            if !model.attainment.isEmpty {
                Section(s(.teamTargets)) {
                    Chart(model.attainment) { bar in
                        BarMark(x: .value(s(.teamTargets), bar.fraction), y: .value(s(.teamTargets), bar.title))
                            .annotation(position: .trailing) { Text(bar.attainmentText).font(.caption2) }
                        RuleMark(x: .value("100%", 1.0)).foregroundStyle(.secondary)
                    }
                    .chartXScale(domain: 0...1.5)
                    .frame(height: CGFloat(44 * max(model.attainment.count, 1)))
                    .accessibilityLabel(model.accessibilityLabel(.attainmentChart))
                    ForEach(model.attainment) { bar in
                        Text("\(bar.title): \(bar.detailText), \(bar.paceText)").font(.caption)
                            .accessibilityLabel(bar.accessibilityLabel)
                    }
                }
            }
            if !model.commission.isEmpty {
                Section(s(.teamCommission)) {
                    ForEach(model.commission) { row in
                        LabeledContent(row.rep, value: row.commissionText)
                            .accessibilityLabel(row.accessibilityLabel)
                    }
                }
            }
            if let error = model.errorText { Text(error).foregroundStyle(.red) }
        }
        .navigationTitle(s(.teamTitle))
        .task { await model.load() }
        .refreshable { await model.load() }
    }
}
#endif
