//! Charts as SVG written on the server: no JavaScript, no CDN, readable by screen readers (each chart has a
//! title and its numbers as text).

use std::fmt::Write as _;

/// Escapes text for SVG (XML).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal bars, one per (label, value), largest first as given, value and share printed at the end.
pub fn bars(title: &str, rows: &[(String, f64)], unit: &str) -> String {
    let (label_w, bar_w, row_h) = (180.0, 420.0, 18.0);
    let height = 24.0 + row_h * rows.len() as f64;
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{height}" viewBox="0 0 {w} {height}"><title>{t}</title>"#,
        w = label_w + bar_w + 120.0,
        t = escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 20.0 + row_h * i as f64;
        let len = (value / max * bar_w).max(1.0);
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{l}</text><rect x="{label_w}" y="{y}" width="{len:.1}" height="{h}" fill="#0b57d0"/><text x="{vx:.1}" y="{ty}">{v}{u}</text>"##,
            lx = label_w - 6.0,
            ty = y + 12.0,
            l = escape(label),
            h = row_h - 4.0,
            vx = label_w + len + 4.0,
            v = number(*value),
            u = escape(unit),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars over time: one per (day, value), oldest first.
pub fn columns(title: &str, rows: &[(String, f64)]) -> String {
    let (w, h, top, bottom) = (720.0, 220.0, 16.0, 40.0);
    let n = rows.len().max(1) as f64;
    let step = (w - 60.0) / n;
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><title>{t}</title><text x="0" y="12">{m}</text>"#,
        t = escape(title),
        m = number(max)
    );
    for (i, (day, value)) in rows.iter().enumerate() {
        let bar = (value / max * (h - top - bottom)).max(1.0);
        let x = 50.0 + step * i as f64;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bar:.1}" fill="#0b57d0"><title>{d}: {v}</title></rect>"##,
            y = h - bottom - bar,
            bw = (step * 0.8).max(1.0),
            d = escape(day),
            v = number(*value)
        );
        // Every day's label would overlap on a month: label about eight of them.
        if i % (rows.len() / 8).max(1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{ly}">{d}</text>"#,
                ly = h - bottom + 14.0,
                d = escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Stacked vertical bars over time: per (label, values) one column, one colour per series (`names`), oldest
/// first; a legend names the series.
pub fn stacked(title: &str, names: &[&str], rows: &[(String, Vec<f64>)]) -> String {
    const COLOURS: [&str; 6] = ["#1a7f37", "#4ac26b", "#d4a72c", "#cf222e", "#8c959f", "#0b57d0"];
    let (w, h, top, bottom) = (720.0, 240.0, 24.0, 40.0);
    let n = rows.len().max(1) as f64;
    let step = (w - 60.0) / n;
    let max = rows
        .iter()
        .map(|r| r.1.iter().sum::<f64>())
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><title>{t}</title><text x="0" y="34">{m}</text>"#,
        t = escape(title),
        m = number(max)
    );
    for (i, name) in names.iter().enumerate() {
        let x = 50.0 + 110.0 * i as f64;
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/><text x="{tx}" y="13">{n}</text>"#,
            tx = x + 14.0,
            n = escape(name)
        );
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let x = 50.0 + step * i as f64;
        let mut y = h - bottom;
        for (k, v) in values.iter().enumerate() {
            let bar = v / max * (h - top - bottom);
            y -= bar;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bar:.1}" fill="{c}"><title>{l}: {n} {v}</title></rect>"#,
                bw = (step * 0.8).max(1.0),
                c = COLOURS[k % COLOURS.len()],
                l = escape(label),
                n = escape(names.get(k).copied().unwrap_or_default()),
                v = number(*v)
            );
        }
        if i % (rows.len() / 8).max(1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{ly}">{l}</text>"#,
                ly = h - bottom + 14.0,
                l = escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A count without decimals, a share with one.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped_and_values_printed() {
        let svg = super::bars("t<", &[("<script>".into(), 3.0), ("b".into(), 1.5)], " %");
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.contains(">3 %<") && svg.contains(">1.5 %<"));
        let svg = super::columns("days", &[("2026-12-06".into(), 10.0), ("2026-12-07".into(), 20.0)]);
        assert!(svg.contains("2026-12-07: 20") && svg.contains(">12-06<"));
    }
}
