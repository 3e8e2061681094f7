//! AI content generation.

use crate::client::Client;
use crate::error::Result;
use crate::models::{Content, ContentRequest};
use crate::transport::Call;

/// Generates lessons and quizzes with `POST /content/generate`.
///
/// ```no_run
/// # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
/// use toolboxai::{ContentRequest, EnvironmentType};
///
/// let request = ContentRequest::lesson("Science", 8)
///     .learning_objectives(["Interactive Science lesson"])
///     .environment_type(EnvironmentType::Laboratory)
///     .include_quiz(true);
/// let lesson = client.content().generate(&request).await?;
/// if let Some(roblox) = &lesson.roblox_integration {
///     println!("{}", roblox.terrain_script);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ContentGenerator {
    client: Client,
}

impl ContentGenerator {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Generates content from a typed request.
    ///
    /// Each attempt may take as long as
    /// [`ClientBuilder::content_timeout`](crate::ClientBuilder::content_timeout)
    /// (default 300 seconds), because generation waits on an AI model.
    ///
    /// # Errors
    ///
    /// [`APIError::Forbidden`](crate::APIError::Forbidden) for accounts that
    /// may not generate content (students),
    /// [`APIError::Validation`](crate::APIError::Validation) for invalid fields
    /// such as a grade outside 1 to 12, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn generate(&self, request: &ContentRequest) -> Result<Content> {
        let call = Call::post(&["content", "generate"], request)?
            .timeout(Some(self.client.content_timeout()));
        self.client.send(call).await
    }
}
