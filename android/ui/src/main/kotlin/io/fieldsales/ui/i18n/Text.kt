package io.fieldsales.ui.i18n

import io.fieldsales.kit.core.Money
import java.math.BigDecimal
import java.text.NumberFormat
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle
import java.util.Currency
import java.util.Locale
import javax.xml.parsers.DocumentBuilderFactory

/**
 * The UI's words for one locale. On Android they come from the app's `res/values…/strings.xml`
 * (`ResourceText`); here from the same files on the class path ([XmlText]), so one set of
 * resources serves both. Arguments use Android's `%1$s` placeholders.
 */
interface Text {
    val locale: Locale
    operator fun get(key: String): String
    fun format(key: String, vararg args: Any): String = String.format(locale, get(key), *args)
}

/** Reads `res/values/strings.xml` and, over it, `res/values-<language>/strings.xml`. */
class XmlText(override val locale: Locale) : Text {
    private val strings: Map<String, String> = load("values") + if (locale.language == "en") emptyMap() else load("values-${locale.language}")

    override fun get(key: String): String = strings[key] ?: error("no string '$key'")

    val keys: Set<String> get() = strings.keys

    companion object {
        fun load(folder: String): Map<String, String> {
            val stream = XmlText::class.java.getResourceAsStream("/res/$folder/strings.xml") ?: return emptyMap()
            val doc = stream.use { DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(it) }
            val nodes = doc.getElementsByTagName("string")
            return (0 until nodes.length).associate { i ->
                val n = nodes.item(i)
                n.attributes.getNamedItem("name").nodeValue to unescape(n.textContent)
            }
        }

        /** Android's escapes in string resources. */
        fun unescape(s: String): String = s.replace("\\'", "'").replace("\\\"", "\"").replace("\\n", "\n").replace("\\@", "@")
    }
}

/** Numbers, money, dates and times for the locale, in the rep's zone. */
class Formats(val locale: Locale, val zone: ZoneId) {
    private val dateFmt = DateTimeFormatter.ofLocalizedDate(FormatStyle.MEDIUM).withLocale(locale)
    private val dateTimeFmt = DateTimeFormatter.ofLocalizedDateTime(FormatStyle.MEDIUM, FormatStyle.SHORT).withLocale(locale)
    private val timeFmt = DateTimeFormatter.ofLocalizedTime(FormatStyle.SHORT).withLocale(locale)

    fun number(n: Long): String = NumberFormat.getIntegerInstance(locale).format(n)

    fun decimal(d: Double, digits: Int = 1): String =
        NumberFormat.getNumberInstance(locale).apply { maximumFractionDigits = digits; minimumFractionDigits = 0 }.format(d)

    /** A share from 0 to 1 as a percentage ("42%"). */
    fun percent(share: Double): String = NumberFormat.getPercentInstance(locale).apply { maximumFractionDigits = 0 }.format(share)

    /** Basis points as a percentage ("87.5%"). */
    fun bp(bp: Long): String = NumberFormat.getPercentInstance(locale).apply { maximumFractionDigits = 1 }.format(bp / 10_000.0)

    /** Minor units of an ISO 4217 currency, with its symbol and digits for the locale ("₩1,500,000"). */
    fun money(amountMinor: Long, currency: String): String {
        val c = runCatching { Currency.getInstance(currency) }.getOrNull() ?: return "${number(amountMinor)} $currency"
        val digits = c.defaultFractionDigits.coerceAtLeast(0)
        val f = NumberFormat.getCurrencyInstance(locale).apply {
            this.currency = c
            minimumFractionDigits = digits
            maximumFractionDigits = digits
        }
        return f.format(BigDecimal.valueOf(amountMinor).movePointLeft(digits))
    }

    fun money(m: Money): String = money(m.amountMinor, m.currency)

    /** A signed change of money ("+₩500,000", "−₩20,000"). */
    fun moneyDelta(deltaMinor: Long, currency: String): String =
        sign(deltaMinor.toDouble()) + money(kotlin.math.abs(deltaMinor), currency)

    fun signedNumber(n: Long): String = sign(n.toDouble()) + number(kotlin.math.abs(n))

    fun signedDecimal(d: Double): String = sign(d) + decimal(kotlin.math.abs(d))

    private fun sign(d: Double) = if (d > 0) "+" else if (d < 0) "−" else "±"

    fun date(ms: Long): String = dateFmt.format(Instant.ofEpochMilli(ms).atZone(zone))
    fun dateTime(ms: Long): String = dateTimeFmt.format(Instant.ofEpochMilli(ms).atZone(zone))
    fun time(ms: Long): String = timeFmt.format(Instant.ofEpochMilli(ms).atZone(zone))
    fun localDate(d: java.time.LocalDate): String = dateFmt.format(d)
}
