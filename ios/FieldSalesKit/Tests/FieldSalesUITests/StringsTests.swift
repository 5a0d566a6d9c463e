import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class StringsTests: XCTestCase {
    func testCurrencyDecimalsComeFromTheCore() {
        XCTAssertEqual(CoreCalls.currencyExponent("KRW"), 0)
        XCTAssertEqual(CoreCalls.currencyExponent("USD"), 2)
        XCTAssertEqual(CoreCalls.currencyExponent("BHD"), 3)
        XCTAssertEqual(CoreCalls.currencyExponent("JPY"), 0)
    }

    func placeholders(_ s: String) -> Set<String> {
        Set((0..<5).map { "{\($0)}" }.filter(s.contains))
    }

    func testEveryStringHasAnEnglishAndAKoreanTextWithTheSamePlaceholders() {
        for key in Strings.Key.allCases {
            guard let en = Strings.en[key], let ko = Strings.ko[key] else {
                XCTFail("\(key): en \(Strings.en[key] ?? "missing"), ko \(Strings.ko[key] ?? "missing")")
                continue
            }
            XCTAssertEqual(placeholders(en), placeholders(ko), "\(key)")
            XCTAssertFalse(en.isEmpty || ko.isEmpty, "\(key)")
        }
        XCTAssertEqual(Strings.en.count, Strings.Key.allCases.count)
        XCTAssertEqual(Strings.ko.count, Strings.Key.allCases.count)
    }

    func testTheLanguageFollowsTheLocale() {
        XCTAssertEqual(Strings(locale: Locale(identifier: "ko_KR")).language, .ko)
        XCTAssertEqual(Strings(locale: Locale(identifier: "ko")).language, .ko)
        XCTAssertEqual(Strings(locale: Locale(identifier: "en_GB")).language, .en)
        XCTAssertEqual(Strings(locale: Locale(identifier: "fr_FR")).language, .en, "English for the rest")
        let ko = Strings(locale: Locale(identifier: "ko_KR"))
        XCTAssertEqual(ko(.syncWaitingMany, "3"), "보낼 변경 사항 3건")
        XCTAssertEqual(ko.stage(.proposal), "제안")
        XCTAssertEqual(Strings(locale: Locale(identifier: "en_US"))(.syncSending, "1", "2"), "Sending 1 of 2 changes")
    }

    func testNumbersMoneyAndDatesAreFormattedForKoreanAndEnglish() {
        let ko = UIContext.korean().formats, en = UIContext.english().formats
        let krw = Money(amountMinor: 1_500_000, currency: "KRW"), usd = Money(amountMinor: 150_050, currency: "USD")
        XCTAssertEqual(ko.money(krw), "₩1,500,000")
        XCTAssertEqual(ko.money(usd), "US$1,500.50")
        XCTAssertEqual(en.money(usd), "$1,500.50")
        XCTAssertEqual(en.money(krw), "₩1,500,000")
        XCTAssertEqual(en.money(Money(amountMinor: 1_234, currency: "BHD")), "BHD\u{00A0}1.234", "three decimals, as the core counts them")
        XCTAssertEqual(en.money([krw, usd]), "₩1,500,000 · $1,500.50")
        XCTAssertEqual(en.money([]), "—")
        XCTAssertEqual(CoreCalls.currencyExponent("KRW"), 0)
        XCTAssertEqual(CoreCalls.currencyExponent("USD"), 2)
        XCTAssertEqual(CoreCalls.currencyExponent("JPY"), 0)
        XCTAssertEqual(ko.number(1_234_567), "1,234,567")
        XCTAssertEqual(ko.percent(0.625), "62.5%")
        XCTAssertEqual(ko.percent(bp: 12_500), "125%")
        XCTAssertEqual(ko.percent(nil), "—")
        XCTAssertEqual(ko.days(12.5), "12.5일")
        XCTAssertEqual(en.days(3), "3 days")

        XCTAssertEqual(ko.date(T0), "2026년 11월 2일")
        XCTAssertEqual(en.date(T0), "Nov 2, 2026")
        XCTAssertEqual(ko.dateTime(T0), "2026년 11월 2일 오후 6:00", "18:00 in Seoul")
        XCTAssertEqual(ko.time(T0), "오후 6:00")
        XCTAssertEqual(UIContext.english(newYork).formats.time(T0), "4:00\u{202F}AM")
        let week = Period(start: T0 - 18 * 3_600_000, end: T0 - 18 * 3_600_000 + 7 * 86_400_000)
        XCTAssertEqual(ko.period(week), "2026년 11월 2일 – 2026년 11월 8일")
    }
}
