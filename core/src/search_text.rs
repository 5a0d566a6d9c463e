//! The words a lead search matches, cut and folded here for both the index and the query.
//!
//! The full-text index (schema v12) uses FTS5's `ascii` tokenizer with `detail=none` and a
//! one-letter prefix index: the smallest index FTS5 builds (≈ 130 B a lead against ≈ 430 B with
//! `unicode61` and word positions), and a search for "a" over a million leads within a
//! keystroke. `detail=none` refuses a phrase of several tokens, and `ascii` only splits at
//! ASCII separators and folds only ASCII case; so the text is cut into words and folded here,
//! before FTS5 sees it, and the query is built from the same words. A typed word is then
//! always one indexed token, whatever its script.

use unicode_normalization::UnicodeNormalization;

/// The words of `text`: runs of letters and digits, lower-cased, with the combining
/// diacritics of Latin, Greek and Cyrillic letters removed ("Müller" → "muller", as
/// `unicode61 remove_diacritics 2` did). Hangul syllables stay whole ("김철수").
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold)
}

/// `text` as the index stores it: its words, one space apart.
pub fn indexed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w);
    }
    out
}

fn fold(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    // Decomposed, a Hangul syllable is jamo (letters, not marks): it composes back whole.
    lower.nfd().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_the_same_way_whatever_was_typed() {
        let w = |t: &str| words(t).collect::<Vec<_>>();
        assert_eq!(w("Müller-Lüdenscheidt GmbH"), ["muller", "ludenscheidt", "gmbh"]);
        assert_eq!(w("sales@globex.com"), ["sales", "globex", "com"]);
        assert_eq!(w("김철수, 삼성전자"), ["김철수", "삼성전자"]);
        assert_eq!(w("ÉCOLE Ωμέγα Ёлка"), ["ecole", "ωμεγα", "елка"]);
        assert_eq!(w("  \"*) OR ( "), ["or"]);
        assert!(w("").is_empty());
        assert_eq!(indexed("Fleet  tracking, 40 trucks."), "fleet tracking 40 trucks");
    }

    #[test]
    fn a_folded_word_holds_no_ascii_separator() {
        // The index's tokenizer cuts at ASCII characters that are not letters or digits: a
        // folded word must hold none, or one typed word would become several tokens.
        let sample = "İstanbul ǅemal ﬁnance Ⅻ ①② ß Straße ΐ 𝔘𝔫𝔦 ｆｕｌｌ ٣٤ 한글 カタカナ";
        for w in words(sample) {
            assert!(!w.is_empty());
            assert!(w.chars().all(|c| !c.is_ascii() || c.is_ascii_alphanumeric()), "{w:?}");
        }
    }
}
