package io.fieldsales.app

import android.content.Context
import io.fieldsales.ui.i18n.Text
import java.util.Locale

/** The screens' words from the app's string resources (res/values, res/values-ko), by key. */
class ResourceText(private val context: Context) : Text {
    override val locale: Locale get() = context.resources.configuration.locales[0]

    override fun get(key: String): String {
        val id = context.resources.getIdentifier(key, "string", context.packageName)
        require(id != 0) { "no string '$key'" }
        return context.getString(id)
    }
}
