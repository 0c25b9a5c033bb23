//! SuperOffice's enums on the wire: `ChatMessage.Type` and `ChatMessage.SpecialType` are read by
//! name (any case) or by number and written by name; both are SuperOffice's, not the core's.

use crate::core::model::{MessageType, SpecialType};

/// Names and numbers of an enum that both are part of the contract.
pub trait NumberedEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
    fn number(self) -> i32;

    /// By name (any case) or by number.
    fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        match raw.parse::<i32>() {
            Ok(number) => Self::ALL.iter().copied().find(|value| value.number() == number),
            Err(_) => Self::ALL.iter().copied().find(|value| value.name().eq_ignore_ascii_case(raw)),
        }
    }
}

impl NumberedEnum for MessageType {
    const ALL: &'static [Self] =
        &[MessageType::Invalid, MessageType::ToCustomer, MessageType::ToUser, MessageType::Special];
    fn name(self) -> &'static str {
        match self {
            MessageType::Invalid => "Invalid",
            MessageType::ToCustomer => "ToCustomer",
            MessageType::ToUser => "ToUser",
            MessageType::Special => "Special",
        }
    }
    fn number(self) -> i32 {
        match self {
            MessageType::Invalid => 0,
            MessageType::ToCustomer => 1,
            MessageType::ToUser => 2,
            MessageType::Special => 3,
        }
    }
}

impl NumberedEnum for SpecialType {
    const ALL: &'static [Self] = &[
        SpecialType::None,
        SpecialType::Welcome,
        SpecialType::Url,
        SpecialType::Block,
        SpecialType::NewSession,
        SpecialType::TransferedSession,
        SpecialType::Error,
        SpecialType::SessionDeleted,
        SpecialType::FaqSuccessQuestion,
        SpecialType::ClosedByUser,
        SpecialType::ClosedByCustomer,
        SpecialType::ClosedByIdle,
        SpecialType::TransferRejected,
        SpecialType::ReopenedByCustomer,
        SpecialType::ClickedOption,
        SpecialType::BotMessage,
        SpecialType::Options,
    ];
    fn name(self) -> &'static str {
        match self {
            SpecialType::None => "None",
            SpecialType::Welcome => "Welcome",
            SpecialType::Url => "Url",
            SpecialType::Block => "Block",
            SpecialType::NewSession => "NewSession",
            SpecialType::TransferedSession => "TransferedSession",
            SpecialType::Error => "Error",
            SpecialType::SessionDeleted => "SessionDeleted",
            SpecialType::FaqSuccessQuestion => "FaqSuccessQuestion",
            SpecialType::ClosedByUser => "ClosedByUser",
            SpecialType::ClosedByCustomer => "ClosedByCustomer",
            SpecialType::ClosedByIdle => "ClosedByIdle",
            SpecialType::TransferRejected => "TransferRejected",
            SpecialType::ReopenedByCustomer => "ReopenedByCustomer",
            SpecialType::ClickedOption => "ClickedOption",
            SpecialType::BotMessage => "BotMessage",
            SpecialType::Options => "Options",
        }
    }
    fn number(self) -> i32 {
        match self {
            SpecialType::None => 0,
            SpecialType::Welcome => 1,
            SpecialType::Url => 2,
            SpecialType::Block => 3,
            SpecialType::NewSession => 5,
            SpecialType::TransferedSession => 6,
            SpecialType::Error => 7,
            SpecialType::SessionDeleted => 8,
            SpecialType::FaqSuccessQuestion => 9,
            SpecialType::ClosedByUser => 10,
            SpecialType::ClosedByCustomer => 11,
            SpecialType::ClosedByIdle => 12,
            SpecialType::TransferRejected => 13,
            SpecialType::ReopenedByCustomer => 14,
            SpecialType::ClickedOption => 15,
            SpecialType::BotMessage => 16,
            SpecialType::Options => 17,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_superoffices() {
        let numbers: Vec<i32> = MessageType::ALL.iter().map(|value| value.number()).collect();
        assert_eq!(numbers, [0, 1, 2, 3]);
        let numbers: Vec<i32> = SpecialType::ALL.iter().map(|value| value.number()).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
        assert_eq!(SpecialType::parse("4"), None);
        assert_eq!(SpecialType::parse("options"), Some(SpecialType::Options));
    }
}
