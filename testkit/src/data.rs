//! Lead data as reps capture it at Korean trade shows: Korean and English names, titles,
//! events, invented companies, tags, notes, and a typical captured lead built from them. Seeded
//! generators draw from these, so a fixture is the same on every run.

use fieldsales_core::{
    ActivityDraft, ActivityKind, CaptureChannel, CustomField, LeadDraft, Location, Money,
    Potential, Stage,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::T0;

/// Surnames and their romanisation (for e-mail addresses).
pub const KO_SURNAMES: [(&str, &str); 10] = [
    ("김", "kim"),
    ("이", "lee"),
    ("박", "park"),
    ("최", "choi"),
    ("정", "jung"),
    ("강", "kang"),
    ("조", "cho"),
    ("윤", "yoon"),
    ("장", "jang"),
    ("임", "lim"),
];
/// Two given names start with 민, so "김민" matches 1/10 × 2/10 of the Korean half: ~1%.
pub const KO_GIVEN: [(&str, &str); 10] = [
    ("민준", "minjun"),
    ("민서", "minseo"),
    ("서연", "seoyeon"),
    ("도윤", "doyun"),
    ("하은", "haeun"),
    ("지호", "jiho"),
    ("수아", "sua"),
    ("예준", "yejun"),
    ("현우", "hyunwoo"),
    ("서준", "seojun"),
];
pub const EN_FIRST: [&str; 10] =
    ["James", "Emma", "Oliver", "Sophia", "Daniel", "Grace", "Michael", "Chloe", "David", "Olivia"];
pub const EN_LAST: [&str; 10] =
    ["Smith", "Park", "Lee", "Brown", "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Young"];
pub const TITLES: [&str; 10] = [
    "CEO",
    "CTO",
    "Purchasing Manager",
    "Sales Director",
    "Engineer",
    "Team Lead",
    "과장",
    "부장",
    "대리",
    "팀장",
];
pub const EVENTS: [&str; 4] = [
    "COEX Smart Factory Expo 2026",
    "Busan Marine Week 2026",
    "Seoul Startup Fair 2026",
    "KINTEX Robot Show 2026",
];
pub const COMPANY_SUFFIXES: [&str; 10] = [
    "Systems",
    "Tech",
    "Logistics",
    "Foods",
    "Bio",
    "Motors",
    "Telecom",
    "Energy",
    "Retail",
    "Pharma",
];
pub const TAGS: [&str; 8] =
    ["vip", "demo", "partner", "enterprise", "smb", "expo2026", "reseller", "hot-lead"];
pub const INDUSTRIES: [&str; 5] = ["manufacturing", "logistics", "retail", "healthcare", "finance"];
pub const POTENTIALS: [Potential; 3] = [Potential::Hot, Potential::Warm, Potential::Cold];
/// Every funnel stage but lost: the stages of `typical_draft`.
pub const STAGES: [Stage; 6] = [
    Stage::New,
    Stage::Contacted,
    Stage::Qualified,
    Stage::Proposal,
    Stage::Negotiation,
    Stage::Won,
];
/// Reps `rep01` to `rep10` own the leads of `typical_draft`.
pub const OWNERS: usize = 10;

pub fn owner(i: usize) -> String {
    format!("rep{:02}", i + 1)
}

/// A person's name, half Korean ("김민준") and half English ("Emma Park"), and the local part of
/// their e-mail address ("minjun.kim", "emma.park").
pub fn person(rng: &mut StdRng) -> (String, String) {
    if rng.random_bool(0.5) {
        let (s, sr) = KO_SURNAMES.choose(rng).expect("surnames");
        let (g, gr) = KO_GIVEN.choose(rng).expect("given names");
        (format!("{s}{g}"), format!("{gr}.{sr}"))
    } else {
        let f = EN_FIRST.choose(rng).expect("first names");
        let l = EN_LAST.choose(rng).expect("last names");
        (format!("{f} {l}"), format!("{}.{}", f.to_lowercase(), l.to_lowercase()))
    }
}

/// A Korean mobile number as people write it ("010-2345-6789").
pub fn korean_mobile(rng: &mut StdRng) -> String {
    // libphonenumber's Korean metadata rejects 010-5xxx blocks beyond 010-596x; avoid them.
    format!(
        "010-{}{:03}-{:04}",
        [1, 2, 3, 4, 6, 7, 8, 9].choose(rng).expect("digit"),
        rng.random_range(0..1000),
        rng.random_range(0..10000)
    )
}

/// 100 invented company names whose first three letters are all different ("Bazora Systems",
/// "Bexora Tech", …), so the three-letter prefix of one matches about 1% of the leads.
pub fn companies() -> Vec<String> {
    let c1 = ['b', 'd', 'g', 'h', 'k', 'm', 'n', 'p', 'r', 't'];
    let v = ['a', 'e', 'i', 'o', 'u'];
    let c2 = ['z', 'x'];
    let mut out = Vec::with_capacity(100);
    for (i, a) in c1.iter().enumerate() {
        for b in v {
            for c in c2 {
                let word = format!("{}{b}{c}ora", a.to_ascii_uppercase());
                out.push(format!(
                    "{word} {}",
                    COMPANY_SUFFIXES[(out.len() + i) % COMPANY_SUFFIXES.len()]
                ));
            }
        }
    }
    out
}

/// Roughly 100 characters of the kind a rep types after a booth conversation; `ko_close` ends
/// the Korean one.
pub fn notes(rng: &mut StdRng, ko_close: &str) -> String {
    match rng.random_range(0..3) {
        0 => format!(
            "Visited our booth and asked about fleet tracking for {} trucks. Wants a demo and pricing before Q{}.",
            rng.random_range(10..200),
            rng.random_range(1..5)
        ),
        1 => format!(
            "관심 제품: 스마트 센서 {}대. 다음 주에 견적서 요청, 구매 결정은 {}분기 예정. 담당 부서 미팅 필요{ko_close}",
            rng.random_range(10..500),
            rng.random_range(1..5)
        ),
        _ => format!(
            "Met at the seminar; uses a competitor whose contract ends in {} months. Interested in migration support.",
            rng.random_range(2..13)
        ),
    }
}

/// A typical lead: name, company, title, one e-mail, one phone, event, badge scan, potential,
/// a KRW deal value, two tags, ~100 characters of notes, one custom field and a follow-up,
/// owned by one of `OWNERS` reps.
pub fn typical_draft(rng: &mut StdRng, companies: &[String]) -> LeadDraft {
    let company = companies.choose(rng).expect("companies").clone();
    let domain = company.split(' ').next().unwrap_or("example").to_lowercase();
    let (name, local) = person(rng);
    let tags: Vec<String> = TAGS.choose_multiple(rng, 2).map(|t| t.to_string()).collect();
    LeadDraft {
        name: Some(name),
        company: Some(company),
        title: Some(TITLES.choose(rng).expect("titles").to_string()),
        emails: vec![format!("{local}@{domain}.co.kr")],
        phones: vec![korean_mobile(rng)],
        event: Some(EVENTS.choose(rng).expect("events").to_string()),
        channel: Some(CaptureChannel::BadgeScan),
        stage: Some(*STAGES.choose(rng).expect("stages")),
        potential: Some(*POTENTIALS.choose(rng).expect("potentials")),
        deal_value: Some(Money {
            amount_minor: rng.random_range(1_000_000..500_000_000),
            currency: "KRW".into(),
        }),
        owner: Some(owner(rng.random_range(0..OWNERS))),
        tags,
        notes: Some(notes(rng, ", 기존 업체 계약 만료 예정.")),
        custom_fields: vec![CustomField {
            key: "industry".into(),
            value: INDUSTRIES.choose(rng).expect("industries").to_string(),
        }],
        next_follow_up: Some(T0 + rng.random_range(1..30) * 86_400_000),
        ..Default::default()
    }
}

/// `n` typical drafts from a generator seeded with `seed`.
pub fn drafts(seed: u64, n: usize, companies: &[String]) -> Vec<LeadDraft> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| typical_draft(&mut rng, companies)).collect()
}

/// Random characters, as many as drawn from `len`: lower-case Latin letters, Hangul syllables
/// or digits.
fn random_text(rng: &mut StdRng, len: std::ops::Range<usize>) -> String {
    let len = rng.random_range(len);
    let script = rng.random_range(0..3);
    (0..len)
        .map(|_| match script {
            0 => char::from(b'a' + rng.random_range(0..26u8)),
            1 => char::from_u32(0xAC00 + rng.random_range(0..11_172)).unwrap_or('가'),
            _ => char::from(b'0' + rng.random_range(0..10u8)),
        })
        .collect()
}

/// Random words, as many as drawn from `words`, separated by spaces.
fn random_words(rng: &mut StdRng, words: std::ops::Range<usize>) -> String {
    let n = rng.random_range(words);
    let w: Vec<String> = (0..n).map(|_| random_text(rng, 2..10)).collect();
    w.join(" ")
}

/// A lead with the shape of [`typical_draft`] (the same fields, sometimes left out), but every
/// text drawn at random: it shows the layout of a lead's document and nothing of this module's
/// vocabulary. The documents' compression dictionary is trained on leads like these
/// (`core/examples/doc_dictionary.rs`), so that the benches, which capture typical leads, do not
/// measure a dictionary that learnt their names and notes.
pub fn random_draft(rng: &mut StdRng) -> LeadDraft {
    let some = |rng: &mut StdRng, words: usize| {
        rng.random_bool(0.9).then(|| random_words(rng, 1..words + 1))
    };
    let emails = (0..rng.random_range(0..3))
        .map(|_| {
            let local = random_text(rng, 3..12).to_lowercase();
            let local: String = local.chars().filter(char::is_ascii_alphanumeric).collect();
            let domain: String = (0..rng.random_range(3..10))
                .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
                .collect();
            format!(
                "x{local}@{domain}.{}",
                ["com", "co.kr", "kr", "net", "io"][rng.random_range(0..5)]
            )
        })
        .collect();
    let phones = (0..rng.random_range(0..3)).map(|_| korean_mobile(rng)).collect();
    let notes = rng.random_bool(0.8).then(|| random_words(rng, 1..30));
    LeadDraft {
        name: Some(random_words(rng, 1..4)),
        company: some(rng, 3),
        title: some(rng, 3),
        emails,
        phones,
        event: some(rng, 5),
        channel: Some(
            [CaptureChannel::BadgeScan, CaptureChannel::Manual, CaptureChannel::BusinessCard]
                [rng.random_range(0..3)],
        ),
        stage: Some(*STAGES.choose(rng).expect("stages")),
        potential: rng.random_bool(0.8).then(|| *POTENTIALS.choose(rng).expect("potentials")),
        deal_value: rng.random_bool(0.8).then(|| Money {
            amount_minor: rng.random_range(0..10_000_000_000),
            currency: ["KRW", "USD", "EUR", "JPY"][rng.random_range(0..4)].into(),
        }),
        owner: Some(random_text(rng, 3..12)),
        tags: (0..rng.random_range(0..4)).map(|_| random_text(rng, 2..10)).collect(),
        notes,
        custom_fields: (0..rng.random_range(0..3))
            .map(|_| CustomField { key: random_text(rng, 3..12), value: random_words(rng, 1..4) })
            .collect(),
        next_follow_up: rng.random_bool(0.7).then(|| T0 + rng.random_range(1..90) * 86_400_000),
        ..Default::default()
    }
}

/// An activity on `lead_id` with every text drawn at random (see [`random_draft`]).
pub fn random_activity(rng: &mut StdRng, lead_id: &str) -> ActivityDraft {
    let kinds = [
        ActivityKind::Call,
        ActivityKind::Meeting,
        ActivityKind::Visit,
        ActivityKind::Email,
        ActivityKind::Note,
        ActivityKind::Task,
    ];
    let kind = *kinds.choose(rng).expect("kinds");
    let mut a = ActivityDraft::new(lead_id, kind, random_words(rng, 1..6));
    a.notes = rng.random_bool(0.6).then(|| random_words(rng, 1..25));
    if kind == ActivityKind::Task {
        a.due_at = Some(T0 + rng.random_range(1..90) * 86_400_000);
    } else {
        a.occurred_at = Some(T0 - rng.random_range(1..90) * 86_400_000);
        a.duration_s = rng.random_bool(0.5).then(|| rng.random_range(30..7200));
        a.outcome = rng.random_bool(0.5).then(|| random_words(rng, 1..4));
    }
    a.location = (kind == ActivityKind::Visit).then(|| Location {
        lat: rng.random_range(33.0..38.5),
        lon: rng.random_range(125.0..130.0),
        accuracy_m: Some(rng.random_range(3.0..50.0)),
    });
    a
}
