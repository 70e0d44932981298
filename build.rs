//! Rebuild when a migration is added: they are embedded by `sqlx::migrate!`, and the templates
//! by askama.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
}
