use super::model::Inventory;
pub fn to_toml(_: &Inventory) -> String {
    String::new()
}
