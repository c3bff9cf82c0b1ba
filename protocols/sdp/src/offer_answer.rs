//! Offers and answers as distinct types (RFC 3264), so that the type system
//! knows which way a description flows.

use std::fmt;

use crate::description::SessionDescription;
use crate::error::ParseError;

/// A session description sent as an offer (RFC 3264 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpOffer<'a>(SessionDescription<'a>);

/// A session description sent as an answer to a given offer (RFC 3264 §6).
///
/// It can only be made against an [`SdpOffer`], which checks the rule of
/// RFC 3264 §6: the answer has exactly as many media sections as the offer,
/// of the same media types, in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpAnswer<'a>(SessionDescription<'a>);

/// An answer that does not fit its offer. Both variants but `Parse` are a
/// fault of the answering peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerError {
    /// The answer is not valid SDP.
    Parse(ParseError),
    /// The answer has a different number of media sections than the offer.
    MediaCount {
        /// Sections in the offer.
        offer: usize,
        /// Sections in the answer.
        answer: usize,
    },
    /// A media section of the answer has a different media type than the offer's.
    MediaKind {
        /// 0-based index of the section.
        index: usize,
        /// Media type in the offer.
        offer: String,
        /// Media type in the answer.
        answer: String,
    },
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Parse(e) => e.fmt(f),
            AnswerError::MediaCount { offer, answer } => {
                write!(f, "answer has {answer} media sections but the offer has {offer} (RFC 3264 §6)")
            }
            AnswerError::MediaKind { index, offer, answer } => write!(
                f,
                "answer media section {index} is `{answer}` but the offer's is `{offer}` (RFC 3264 §6)"
            ),
        }
    }
}

impl std::error::Error for AnswerError {}

impl From<ParseError> for AnswerError {
    fn from(e: ParseError) -> Self {
        AnswerError::Parse(e)
    }
}

impl<'a> SdpOffer<'a> {
    /// Parses an offer.
    pub fn parse(input: &'a str) -> Result<Self, ParseError> {
        SessionDescription::parse(input).map(SdpOffer)
    }

    /// Wraps a description that is to be sent or was received as an offer.
    pub fn new(description: SessionDescription<'a>) -> Self {
        SdpOffer(description)
    }

    /// The description.
    pub fn description(&self) -> &SessionDescription<'a> {
        &self.0
    }

    /// The description, for changes before it is sent.
    pub fn description_mut(&mut self) -> &mut SessionDescription<'a> {
        &mut self.0
    }

    /// Unwraps the description.
    pub fn into_description(self) -> SessionDescription<'a> {
        self.0
    }

    /// Copies borrowed text so the offer no longer borrows the input.
    pub fn into_owned(self) -> SdpOffer<'static> {
        SdpOffer(self.0.into_owned())
    }

    /// Parses `input` as the answer to this offer.
    pub fn parse_answer<'b>(&self, input: &'b str) -> Result<SdpAnswer<'b>, AnswerError> {
        self.answer_with(SessionDescription::parse(input)?)
    }

    /// Accepts `description` as the answer to this offer, if it fits it.
    pub fn answer_with<'b>(&self, description: SessionDescription<'b>) -> Result<SdpAnswer<'b>, AnswerError> {
        let (offer, answer) = (&self.0.media, &description.media);
        if offer.len() != answer.len() {
            return Err(AnswerError::MediaCount { offer: offer.len(), answer: answer.len() });
        }
        if let Some((index, (o, a))) =
            offer.iter().zip(answer).enumerate().find(|(_, (o, a))| o.line.media != a.line.media)
        {
            return Err(AnswerError::MediaKind {
                index,
                offer: o.line.media.to_string(),
                answer: a.line.media.to_string(),
            });
        }
        Ok(SdpAnswer(description))
    }
}

impl<'a> SdpAnswer<'a> {
    /// The description.
    pub fn description(&self) -> &SessionDescription<'a> {
        &self.0
    }

    /// Unwraps the description.
    pub fn into_description(self) -> SessionDescription<'a> {
        self.0
    }

    /// Copies borrowed text so the answer no longer borrows the input.
    pub fn into_owned(self) -> SdpAnswer<'static> {
        SdpAnswer(self.0.into_owned())
    }
}

impl fmt::Display for SdpOffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for SdpAnswer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
