//! `chat-admin`: provisions agents and clients in the table named by `TABLE_NAME` (and
//! `DYNAMODB_ENDPOINT` for DynamoDB Local). Passwords are read from standard input, never from
//! the command line, where they would end up in shell history and process listings.

use std::io::{BufRead, IsTerminal, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use shared::core::clients;
use shared::core::credentials as auth;
use shared::core::error::Input;
use shared::core::model::{Agent, Role};
use shared::core::webhooks::NewSubscription;
use shared::edna::webhooks::{SubscriptionList, SubscriptionView, SubscriptionWithSecret};
use shared::store::AgentStore;
use shared::webhooks::{self, subscriptions};
use shared::{App, Error, Result};

#[derive(Parser)]
#[command(name = "chat-admin", about = "Provision agents and clients of the Chat Center Messaging API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Agents: the accounts that call the API.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Clients: the people messages are sent to.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Applications: partner apps that call the SuperOffice endpoints with a ticket.
    #[command(subcommand)]
    App(AppCommand),
    /// Webhook subscriptions: where events are delivered (the API's /api/v1/webhooks).
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Subscribe a URL; prints its signing secret once.
    Add {
        #[arg(long)]
        url: String,
        /// An event type to deliver (repeat it); every type when none is given.
        #[arg(long = "event")]
        events: Vec<String>,
        /// `standard` (Standard Webhooks, the default) or `superoffice`.
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the subscriptions (never their secrets).
    List,
    /// Delete a subscription.
    Remove {
        #[arg(long)]
        id: String,
    },
    /// A new signing secret, printed once; the old one keeps signing beside it for 24 h.
    RotateSecret {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register an application; prints its SO-AppToken once (only its hash is stored).
    Register {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Create an enabled agent; the password is read from stdin.
    Create {
        #[arg(long)]
        login: String,
        /// INTEGRATOR, OPERATOR, SUPERVISOR, ADMINISTRATOR, BOT or GATEWAY.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List all agents (never their password hashes).
    List,
    /// Disable an agent: its tokens stop working at once.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled agent again.
    Enable {
        #[arg(long)]
        login: String,
    },
    /// Set a new password, read from stdin.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Create a client that messages can be sent to by `clientId` or `threadsClientId`.
    Create {
        /// The authorized external id (`clientId` in the API).
        #[arg(long)]
        external_id: String,
        #[arg(long)]
        name: Option<String>,
    },
}

fn parse_role(name: &str) -> std::result::Result<Role, String> {
    Role::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!("unknown role {name:?}; one of {}", names.join(", "))
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("chat-admin: {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

fn describe(err: &Error) -> String {
    let message = shared::wording::message(err, &Names);
    match err.server_detail() {
        Some(detail) => format!("{message}: {detail}"),
        None => message,
    }
}

/// This command's names of the inputs it takes: the API's, but for the client's external id.
struct Names;

impl shared::wording::Names for Names {
    fn name(&self, input: Input) -> std::borrow::Cow<'static, str> {
        match input {
            Input::ExternalClientId => "externalId".into(),
            other => shared::edna::Names.name(other),
        }
    }
}

async fn run(command: Command) -> Result<serde_json::Value> {
    // A one-shot process: ids one at a time, so that no reserved block is thrown away.
    let config = shared::config::Config { id_block: 1, ..shared::config::Config::from_env()? };
    let app: &'static App = if config.dynamodb_endpoint.is_some() {
        App::from_config(config).await?
    } else {
        // Against AWS: the operator's profile, SSO or role, through aws-config's chain.
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        Box::leak(Box::new(App::with_dynamodb(config, aws_sdk_dynamodb::config::Builder::from(&sdk))?))
    };
    let store = &app.store;
    Ok(match command {
        Command::Agent(AgentCommand::Create { login, role }) => {
            let password = read_password()?;
            agent_json(&auth::register_agent(store, &login, role, &password).await?)
        }
        Command::Agent(AgentCommand::List) => {
            json!(store.list_agents().await?.iter().map(agent_json).collect::<Vec<_>>())
        }
        Command::Agent(AgentCommand::Disable { login }) => agent_json(&auth::set_enabled(store, &login, false).await?),
        Command::Agent(AgentCommand::Enable { login }) => agent_json(&auth::set_enabled(store, &login, true).await?),
        Command::Agent(AgentCommand::ResetPassword { login }) => {
            let password = read_password()?;
            agent_json(&auth::reset_password(store, &login, &password).await?)
        }
        Command::App(AppCommand::Register { name }) => {
            let app_token = auth::register_application(store, &name).await?;
            json!({"name": name.trim(), "appToken": app_token})
        }
        Command::Webhook(command) => webhook(app, command).await?,
        Command::Client(ClientCommand::Create { external_id, name }) => {
            let client = clients::create_client(store, Some(&external_id), name.as_deref()).await?;
            json!({"clientId": client.client_id, "externalId": client.external_id, "displayName": client.display_name})
        }
    })
}

async fn webhook(app: &'static App, command: WebhookCommand) -> Result<serde_json::Value> {
    let store = &app.store;
    Ok(match command {
        WebhookCommand::Add { url, events, format, description } => {
            let events = (!events.is_empty()).then_some(events);
            let new = NewSubscription::check(url, events, format, description)?;
            // The operator's shell is not the deployment: the deployment's setting decides.
            let allow_loopback_http = webhooks::settings().allow_loopback_http;
            as_json(&SubscriptionWithSecret::from(&subscriptions::create(store, new, allow_loopback_http, None).await?))
        }
        WebhookCommand::List => {
            let all = subscriptions::list(store).await?;
            as_json(&SubscriptionList { items: all.iter().map(SubscriptionView::from).collect() })
        }
        WebhookCommand::Remove { id } => as_json(&SubscriptionView::from(&subscriptions::delete(store, &id).await?)),
        WebhookCommand::RotateSecret { id } => {
            as_json(&SubscriptionWithSecret::from(&subscriptions::rotate(store, &id).await?))
        }
    })
}

/// The API's own bodies, printed as JSON.
fn as_json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn agent_json(agent: &Agent) -> serde_json::Value {
    json!({
        "agentId": agent.agent_id,
        "login": agent.login,
        "role": agent.role.as_str(),
        "enabled": agent.enabled,
        "createdAt": agent.created_at,
    })
}

/// One line from stdin, without its line ending.
fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|err| Error::invalid("password", format!("cannot read stdin: {err}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
