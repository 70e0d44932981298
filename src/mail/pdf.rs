//! Letters as print-ready A4 PDFs, in the built-in Helvetica (no font file needed; text is
//! WinAnsi-encoded, so "£", "’" and "–" print and copy out as themselves).
//!
//! Layout for a window envelope (DL, or C5 folded once): the customer's name and address sit
//! in the window, 20 mm from the left edge and 50 mm from the top; the provider's letterhead
//! is at the top right, fold marks on the left edge at a third and two thirds. Then the date
//! and reference, the subject, and the body wrapped to the margins over as many pages as it
//! needs, each numbered. The large-print variant sets everything at 16 pt or more.

use printpdf::{
    BuiltinFont, Color, Greyscale, Line, LinePoint, Op, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, TextItem,
};

use super::letters::{Letter, paragraphs};

const MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const LEFT_MM: f32 = 20.0;
const RIGHT_MM: f32 = 20.0;
const BOTTOM_MM: f32 = 22.0;
/// The envelope window: 20 mm from the left, 50 mm from the top, 90 mm by 40 mm of text.
const WINDOW_LEFT_MM: f32 = 20.0;
const WINDOW_TOP_MM: f32 = 50.0;
const WINDOW_WIDTH_MM: f32 = 90.0;
/// The letterhead column on the right.
const HEAD_LEFT_MM: f32 = 125.0;
const HEAD_TOP_MM: f32 = 15.0;

/// Type sizes, in points.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    body: f32,
    heading: f32,
    letterhead_name: f32,
    letterhead: f32,
    address: f32,
    footer: f32,
}

impl Sizes {
    fn for_print(large_print: bool) -> Sizes {
        if large_print {
            Sizes {
                body: 16.0,
                heading: 18.0,
                letterhead_name: 18.0,
                letterhead: 16.0,
                address: 16.0,
                footer: 16.0,
            }
        } else {
            Sizes {
                body: 11.0,
                heading: 12.5,
                letterhead_name: 14.0,
                letterhead: 9.5,
                address: 11.0,
                footer: 8.0,
            }
        }
    }
}

/// Helvetica's advance widths (per 1000 em) for ASCII 32 to 126, from Adobe's AFM files.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

fn char_width(c: char, bold: bool) -> u16 {
    let code = u32::from(c);
    if (32..=126).contains(&code) {
        let i = (code - 32) as usize;
        return if bold {
            HELVETICA_BOLD[i]
        } else {
            HELVETICA[i]
        };
    }
    match c {
        '\u{2018}' | '\u{2019}' => {
            if bold {
                278
            } else {
                222
            }
        }
        '\u{201c}' | '\u{201d}' => {
            if bold {
                500
            } else {
                333
            }
        }
        '\u{2014}' => 1000,
        '\u{2022}' => 350,
        // £, €, –, accented letters and the rest: no wider than this.
        _ => 667,
    }
}

/// The width of `text` in points.
fn text_width(text: &str, bold: bool, size: f32) -> f32 {
    text.chars()
        .map(|c| f32::from(char_width(c, bold)))
        .sum::<f32>()
        * size
        / 1000.0
}

/// Wraps one line of text to `width` points, breaking at spaces (and inside a word only when
/// the word alone is wider than the line).
fn wrap(text: &str, bold: bool, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, bold, size) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // A word wider than the line is cut where it must be.
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if text_width(&piece, bold, size) > width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        current = piece;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// One line of text placed on a page: its left edge and baseline from the top, in points.
#[derive(Debug, Clone)]
struct Placed {
    x: f32,
    baseline_from_top: f32,
    size: f32,
    bold: bool,
    text: String,
}

/// Lays a letter out on pages of placed lines.
fn layout(letter: &Letter, sizes: Sizes) -> Vec<Vec<Placed>> {
    let page_height = PAGE_HEIGHT_MM * MM;
    let bottom_limit = page_height - BOTTOM_MM * MM - sizes.footer * 2.0;
    let body_width = (PAGE_WIDTH_MM - LEFT_MM - RIGHT_MM) * MM;
    let mut first: Vec<Placed> = Vec::new();
    let place = |page: &mut Vec<Placed>, x: f32, top: f32, size: f32, bold: bool, text: &str| {
        page.push(Placed {
            x,
            baseline_from_top: top,
            size,
            bold,
            text: text.to_owned(),
        });
    };

    // The letterhead, top right.
    let head_x = HEAD_LEFT_MM * MM;
    let head_width = (PAGE_WIDTH_MM - RIGHT_MM + 5.0) * MM - head_x;
    let mut y = HEAD_TOP_MM * MM + sizes.letterhead_name * 0.8;
    for line in wrap(&letter.from_name, true, sizes.letterhead_name, head_width) {
        place(&mut first, head_x, y, sizes.letterhead_name, true, &line);
        y += sizes.letterhead_name * 1.2;
    }
    let mut head_lines: Vec<String> = letter.from_address.clone();
    if let Some(t) = &letter.from_telephone {
        head_lines.push(format!("Telephone: {t}"));
    }
    for raw in &head_lines {
        for line in wrap(raw, false, sizes.letterhead, head_width) {
            place(&mut first, head_x, y, sizes.letterhead, false, &line);
            y += sizes.letterhead * 1.2;
        }
    }
    let letterhead_bottom = y;

    // The envelope window.
    let mut y = WINDOW_TOP_MM * MM + sizes.address * 0.8;
    for raw in &letter.address {
        for line in wrap(raw, false, sizes.address, WINDOW_WIDTH_MM * MM) {
            place(
                &mut first,
                WINDOW_LEFT_MM * MM,
                y,
                sizes.address,
                false,
                &line,
            );
            y += sizes.address * 1.2;
        }
    }
    let window_bottom = y.max((WINDOW_TOP_MM + 40.0) * MM);

    // Reference and date: in the right column beside the window where they fit, else below it.
    let reference = format!("Our reference: {}", letter.reference);
    let date = format!("Date: {}", letter.date);
    let fits_right = [&reference, &date]
        .iter()
        .all(|t| text_width(t, false, sizes.body) <= head_width)
        && letterhead_bottom < (WINDOW_TOP_MM + 8.0) * MM;
    let mut y = if fits_right {
        let mut ry = (WINDOW_TOP_MM + 10.0) * MM;
        for text in [&reference, &date] {
            place(&mut first, head_x, ry, sizes.body, false, text);
            ry += sizes.body * 1.4;
        }
        window_bottom + 10.0 * MM
    } else {
        let mut ry = window_bottom.max(letterhead_bottom) + 8.0 * MM;
        for text in [&reference, &date] {
            place(&mut first, LEFT_MM * MM, ry, sizes.body, false, text);
            ry += sizes.body * 1.4;
        }
        ry + 6.0 * MM
    };

    // The subject, then the body.
    for line in wrap(&letter.subject, true, sizes.heading, body_width) {
        place(&mut first, LEFT_MM * MM, y, sizes.heading, true, &line);
        y += sizes.heading * 1.3;
    }
    y += sizes.body * 0.8;

    let mut pages = vec![first];
    let line_height = sizes.body * 1.4;
    let continued_top = 20.0 * MM + sizes.body;
    for paragraph in paragraphs(&letter.body) {
        let mut lines = Vec::new();
        for raw in &paragraph {
            lines.extend(wrap(raw, false, sizes.body, body_width));
        }
        // A short paragraph (an address, a signature) is kept whole on the next page rather
        // than split.
        let needed = (lines.len() as f32 - 1.0) * line_height;
        if lines.len() <= 8 && y + needed > bottom_limit && y > continued_top {
            pages.push(Vec::new());
            y = continued_top;
        }
        for line in lines {
            if y > bottom_limit {
                pages.push(Vec::new());
                y = continued_top;
            }
            if let Some(page) = pages.last_mut() {
                place(page, LEFT_MM * MM, y, sizes.body, false, &line);
            }
            y += line_height;
        }
        y += line_height * 0.6;
    }

    // Every page: its number and the reference at the foot.
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let footer = format!(
            "{} - page {} of {count} - reference {}",
            letter.from_name,
            i + 1,
            letter.reference
        );
        for (j, line) in wrap(&footer, false, sizes.footer, body_width)
            .iter()
            .enumerate()
        {
            place(
                page,
                LEFT_MM * MM,
                page_height - 12.0 * MM + j as f32 * sizes.footer * 1.2 - sizes.footer,
                sizes.footer,
                false,
                line,
            );
        }
    }
    pages
}

fn fold_mark(from_top_mm: f32) -> Op {
    let y = Pt((PAGE_HEIGHT_MM - from_top_mm) * MM);
    Op::DrawLine {
        line: Line {
            points: vec![
                LinePoint {
                    p: Point { x: Pt(0.0), y },
                    bezier: false,
                },
                LinePoint {
                    p: Point { x: Pt(5.0 * MM), y },
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    }
}

/// The letter as a PDF: A4, standard or large print.
pub fn render(letter: &Letter, large_print: bool) -> Vec<u8> {
    let sizes = Sizes::for_print(large_print);
    let page_height = PAGE_HEIGHT_MM * MM;
    let pages: Vec<PdfPage> = layout(letter, sizes)
        .into_iter()
        .enumerate()
        .map(|(i, lines)| {
            let mut ops = Vec::with_capacity(lines.len() * 5 + 6);
            if i == 0 {
                ops.push(Op::SaveGraphicsState);
                ops.push(Op::SetOutlineColor {
                    col: Color::Greyscale(Greyscale::new(0.5, None)),
                });
                ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
                ops.push(fold_mark(PAGE_HEIGHT_MM / 3.0));
                ops.push(fold_mark(PAGE_HEIGHT_MM * 2.0 / 3.0));
                ops.push(Op::RestoreGraphicsState);
            }
            for line in lines {
                let font = if line.bold {
                    BuiltinFont::HelveticaBold
                } else {
                    BuiltinFont::Helvetica
                };
                ops.push(Op::StartTextSection);
                ops.push(Op::SetFont {
                    font: PdfFontHandle::Builtin(font),
                    size: Pt(line.size),
                });
                ops.push(Op::SetTextCursor {
                    pos: Point {
                        x: Pt(line.x),
                        y: Pt(page_height - line.baseline_from_top),
                    },
                });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(line.text)],
                });
                ops.push(Op::EndTextSection);
            }
            PdfPage::new(
                printpdf::Mm(PAGE_WIDTH_MM),
                printpdf::Mm(PAGE_HEIGHT_MM),
                ops,
            )
        })
        .collect();
    let mut document = PdfDocument::new(&letter.subject);
    document.metadata.info.author = letter.from_name.clone();
    document.metadata.info.subject = format!("{} {}", letter.kind, letter.reference);
    document.metadata.info.creator = "Redress".to_owned();
    // Dated by the event that caused the letter, so the same letter makes the same file.
    if let Ok(at) = printpdf::OffsetDateTime::from_unix_timestamp(letter.at.as_second()) {
        document.metadata.info.creation_date = at;
        document.metadata.info.modification_date = at;
        document.metadata.info.metadata_date = at;
    }
    let mut warnings = Vec::new();
    document
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces_within_the_width() {
        let lines = wrap(
            "the quick brown fox jumps over the lazy dog",
            false,
            10.0,
            80.0,
        );
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(text_width(line, false, 10.0) <= 80.0, "{line}");
        }
        assert_eq!(
            lines.join(" "),
            "the quick brown fox jumps over the lazy dog"
        );
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut() {
        let lines = wrap(&"W".repeat(40), true, 12.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "W".repeat(40));
    }
}
