//! The demo's closing of the loop: Sacramento's SO WHAT? planning matrix, linked to its 2017
//! wave, with actions on the domains its 2018 wave then shows moving (leadership and
//! communication), and the seven county testing profiles of the ORB Development Circle,
//! condensed from the seed's sections a–g (no names, emails or phone numbers), in varied
//! statuses, with the buddy county's reflections where the seed has them. Idempotent: a
//! county with a matrix or a profile is left as is.

use chrono::NaiveDate;
use orb_domain::closing_the_loop::{ActionStatus, ActionText, ProfileSections, ProfileStatus, Reflections};
use orb_domain::ids::{AdministrationId, CohortId, CountyId, PlanningActionId, PlanningMatrixId, TestingProfileId};
use orb_domain::people::Email;
use orb_store::closing_the_loop as store;
use orb_store::{PageRequest, Session, cohorts, collection, people};

use super::{DEMO_COHORT, DEMO_DOMAIN, county};

/// Sacramento's wave the matrix comes from.
const LINKED_WAVE: &str = "ORB readiness wave 1 (2017)";

struct DemoAction {
    domain: &'static str,
    learned: &'static str,
    so_what: &'static str,
    now_what: &'static str,
    /// The owner's account: `lead` or `staff` of the county.
    owner: &'static str,
    due_on: (i32, u32, u32),
    /// Statuses the action went through after being planned.
    path: &'static [ActionStatus],
    notes: Option<&'static str>,
}

const ACTIONS: &[DemoAction] = &[
    DemoAction {
        domain: "LEAD",
        learned: "Line staff and clerical support rate leadership lowest: they rarely see managers model the CPM leadership behaviors.",
        so_what: "Without visible modeling, the practice behaviors we ask of workers read as one more directive.",
        now_what: "Division managers call out CPM leadership behaviors in every monthly management meeting, and managers carry the practice into unit meetings.",
        owner: "lead",
        due_on: (2018, 3, 31),
        path: &[ActionStatus::InProgress, ActionStatus::Done],
        notes: Some("Started at the January management meeting; labour partners briefed."),
    },
    DemoAction {
        domain: "COMMS",
        learned: "Communication and feedback is the weakest domain; staff do not hear back after giving input.",
        so_what: "If feedback goes nowhere, people stop giving it and readiness stalls.",
        now_what: "Close the loop after each survey and focus group: a one-page 'you said, we did' within two weeks, shared in unit meetings.",
        owner: "staff",
        due_on: (2018, 4, 30),
        path: &[ActionStatus::InProgress],
        notes: None,
    },
    DemoAction {
        domain: "DATA",
        learned: "Supervisors rarely use data with their units to understand practice.",
        so_what: "Data stays a compliance report rather than a tool for learning.",
        now_what: "Pilot a monthly case-discussion series that links CPM behaviors to one data point per unit.",
        owner: "lead",
        due_on: (2018, 6, 30),
        path: &[],
        notes: None,
    },
    DemoAction {
        domain: "TEAMS",
        learned: "Cross-division implementation team meetings lapsed over the summer.",
        so_what: "A standing team was not where the energy was; divisions teamed within their own work.",
        now_what: "Re-launch a cross-division implementation team.",
        owner: "lead",
        due_on: (2018, 2, 28),
        path: &[ActionStatus::Dropped],
        notes: Some("Dropped: folded into the division managers' weekly meeting instead."),
    },
];

/// A testing profile: the county, its status, sections a–g, and the buddy county's reflections
/// (what it was like, what they learned, what they will take, what they would share).
struct DemoProfile {
    county: &'static str,
    status: ProfileStatus,
    sections: [&'static str; 7],
    reflections: Option<[&'static str; 4]>,
}

const PROFILES: &[DemoProfile] = &[
    DemoProfile {
        county: "calaveras",
        status: ProfileStatus::Published,
        sections: [
            "A small, rural county in the Sierra foothills, with about **20 child welfare staff** and around 80 children in foster care. Most staff live in the county. Child welfare works with many partners: probation, behavioral health, public health, First 5, CASA and others. Resource Family Approval began in January 2017.",
            "We tested **CPM key messages**: the CPM is an overarching framework, not a new initiative; it puts the *social* back in social work; it touches every level of the organization.\n\n- A mock child and family team meeting with staff, who set four goals of their own (self-care, mapping what we already do, community outreach, a feedback loop with families), followed by a short readiness survey\n- A presentation to the Board of Supervisors\n- The *We Believe* video with about 180 educators and administrators\n- The agency's management team\n\nWe used meetings that already existed rather than adding new ones.",
            "Staff and partners see CPM behaviors modeled, but they fade under stress. Partners already sense that something is changing and that the agency genuinely wants to team with them.",
            "Shared messages set the stage and gave staff and the community hope. The Board asked good questions; new partners asked how they fit. The *We Believe* video landed with every audience.",
            "Engage foster youth, young adults in extended foster care and birth parents early: their perspective is missing.",
            "- Self-care: a quiet space for staff, and a mindfulness program with community partners\n- A CFT brochure built on CPM values\n- CPM values in the resource family branding, posters, website and social media",
            "**Just start.** The CPM is who we are, not something to do. Celebrate small successes, use the video, and bring CPM into meetings you already hold.",
        ],
        reflections: None,
    },
    DemoProfile {
        county: "kings",
        status: ProfileStatus::Shared,
        sections: [
            "A medium-sized county in the Central region with about **15 supervisors and 66 social workers**; most staff and leaders have been in their roles less than two years. Years of emailed directives built a culture of compliance rather than planning for change.",
            "We tested **four key messages** about the CPM and why readiness matters, and a readiness assessment tailored to Kings covering the six domains. A focus group of eight staff from across the agency heard the messages, took the survey, and met again two weeks later to discuss the tool and the results.",
            "- Quick, responsive feedback loops between workers and leadership are essential\n- Everyone wants role clarity\n- Readiness for change varies: messages cannot be one size fits all\n- Two-way conversation beats one-way communication, and it takes time",
            "Dedicated implementation team members; leadership giving permission for time away from casework and debriefing the feedback; mixed groups of support staff, workers and supervisors; a quick turnaround that kept momentum.",
            "Copy supervisors on invitations and send reminders; state the purpose up front; keep discussion to a minute per question; reword confusing survey items.",
            "Repeat the focus groups and survey with all staff, bring the themes to the leadership team for action planning, and strengthen communication between the implementation and leadership teams.",
            "Make sure leadership is committed to implementation, and understands what it takes, before engaging staff.",
        ],
        reflections: None,
    },
    DemoProfile {
        county: "los-angeles",
        status: ProfileStatus::Shared,
        sections: [
            "A regional office of Los Angeles County where CPM implementation has been under way for several years, with child and family team meetings in place. Its design and implementation teams include supervisors, line staff, clerical staff, community partners, mental health and eligibility partners, a manager and a coach developer.",
            "We tested a version of the **Organizational Readiness Tool** customized for the office through a co-creative process, first with the office's design and implementation teams: their roles are specific to the CPM and their membership is diverse.",
            "The tool was well received; members wanted to complete it on their own time. It gives data to act on, a picture of the office's climate, and a way to slow down and assess progress — and to ask whether our messages are received and change behavior.",
            "Including the people who will use a tool in making it, and paying deliberate attention to their feedback — the feedback loops our continuous quality improvement often lacks.",
            "Start with a smaller group of leads and tool developers to co-design the tool, so it supports conversation, coaching and goal setting as well as measurement.",
            "Use the tool with the coaching and training, communication and data subgroups; ask social workers what they need from leadership; pick two or three questions per audience.",
            "A tool is a guide that needs the willingness to change. Used over time, it gives power back to staff and helps institutionalize behaviors beyond any one person. Working with a buddy is better than working alone.",
        ],
        reflections: Some([
            "Our role combined faculty support — facilitating and coaching the office through testing — with being its buddy county.",
            "The office's leadership kept asking the questions that often go unasked: *how do we know what we do makes a difference?* and *how are we supporting staff to do the work?* — leading with humility and a real wish for feedback from every level.",
            "A stance of curiosity and humility with any tool: slow down, include staff at every level, and respond to what we find rather than react to get things done.",
            "",
        ]),
    },
    DemoProfile {
        county: "orange",
        status: ProfileStatus::Published,
        sections: [
            "A large Southern California county with a diverse population; Spanish, Vietnamese and English are the most spoken languages. Safety Organized Practice implementation began in 2016.",
            "We tested a **presentation** of the CPM — what it is and is not, how it looks here, how we will implement it, how to get involved — with the executive team and managers, asking whether the message works, is clear, promotes conversation, could be adapted and is engaging. We also ran the full readiness tool online: it felt duplicative and neutral answers dominated, so we are cutting it to a few items per domain **without a neutral option**.",
            "We simplified the presentation and added theory; we noticed groups of staff we had overlooked. Implementation is more than awareness and training: it is connecting what we already do to the model. Find early implementers with influence — they carry the flag.",
            "It focused and refined the message, built awareness from leadership down, and confirmed the need for an implementation team.",
            "Find protected time for the people doing CPM work; none are dedicated to it full time.",
            "- Map existing initiatives with managers, then supervisors\n- Present revised messages to supervisors\n- Form an implementation group and a supervisors' workforce development group\n- Create an eLearning; use learning circles",
            "Link with counties that have done it and use their work. Collaborate, collaborate, collaborate. Training is not implementation; keeping momentum is the implementation team's job.",
        ],
        reflections: Some([
            "A support role: we connected at convenings and on calls. It reassured us that we were on the right track — training all staff, and using an implementation team as our test of readiness.",
            "Competing priorities are hard; staying on course takes conscious effort. Hearing what works elsewhere made us feel we are not in this alone.",
            "Lessons from other counties, a network to call when stuck, mapping, and inclusive processes that reach every layer of the system.",
            "Drop-in learning labs, a team charter, implementation science, and a monthly implementation meeting with subcommittees and a one-year commitment from members.",
        ]),
    },
    DemoProfile {
        county: "shasta",
        status: ProfileStatus::Shared,
        sections: [
            "A rural northern county with about 500 children served, roughly 465 in out-of-home care, and limited local resources. Children's services — child welfare, mental health, foster care nursing and eligibility, drug and alcohol services — sit in one branch of about **200 staff**, which lets funding follow families' needs.",
            "We tested **CPM and ORB key messages**, aligned to honor existing work and name specific behaviors, with the *We Believe* video; and a two-page readiness tool on fit and priority, climate and leadership. We started in the monthly leadership meeting, then supervisors, then community stakeholders at the self-assessment meeting — always leaving room for feedback.",
            "The leadership behaviors make leadership's role concrete and easier to coach. Taking them one at a time, over several meetings, worked. A director can hold the vision but must let staff co-create the process and materials, in language that includes every position.",
            "Showing how CPM values connect to all the county's other efforts, and flexibility in how we tested — including early feedback from stakeholders.",
            "Formalize an implementation team early and meet consistently from the start.",
            "Keep engaging staff creatively, tailor messages for key partners, put leadership behaviors into annual evaluations, and display the key messages throughout the agency.",
            "Start simple and build with a small implementation team of four to eight. Give yourself permission to revisit earlier steps.",
        ],
        reflections: Some([
            "We supported the testing county and offered our own experience — and learned as much as we gave.",
            "New ways to move our own readiness work forward.",
            "Some of the tools tested, and the understanding that assessing readiness is continuous, not a one-time event.",
            "",
        ]),
    },
    DemoProfile {
        county: "sonoma",
        status: ProfileStatus::Draft,
        sections: [
            "A mid-sized county of urban and rural communities, with offices in the county seat and one satellite office, and about **100 master's-level social workers**. Implementation is gradual and collaborative, led by a small team of a division director, section managers, supervisors and a social worker.",
            "We tested an **elevator speech**, a **presentation** to the management team (the CPM is not a new initiative; it is about how we do social work and teaming at all levels), and a **26-item adaptation** of the readiness inventory across the six domains. Managers mapped current practices to our values and tried on three leadership behaviors.",
            "Many current practices already match CPM values. The materials raised managers' awareness. Next time we will include clerical staff more: the first contact with a family is often their phone call.",
            "Preparing together and letting each team member present the part they care most about; a director who champions the CPM.",
            "Our presentation fell in the middle of a major wildfire that touched our whole workforce; only a few managers could attend, so we scheduled a follow-up rather than lose momentum.",
            "Clarify each team member's role, present to the remaining managers, then score the inventory and use it to plan next steps.",
            "Every county moves at its own pace; do not feel pressured by counties with more resources. Be sensitive to the agency's climate: *slow down to speed up*.",
        ],
        reflections: None,
    },
    DemoProfile {
        county: "sacramento",
        status: ProfileStatus::Shared,
        sections: [
            "A large county of seven cities and many unincorporated communities, with about **800 allocated child protective services staff**, roughly 3,700 open cases and about 900 new referrals a month, led by a deputy director and four division managers.",
            "We tested **a process for identifying and sharing messages** about the CPM and readiness. The executive leadership team agreed its own key messages (staff voice matters; join us on this journey; we already do some of this — let's be intentional), then brought them to monthly management meetings with a short presentation, cards with CPM elements and discussion, and coached managers as they carried the messages to supervisors.",
            "- Use real, current examples — even crises — to link work to CPM elements and behaviors\n- Give a small task to try between meetings\n- Leaders naming the leadership behaviors in each other models what managers can do with supervisors\n- It takes time, and saying *we don't have all the answers* feels uncomfortable\n- In a large agency, consistent messaging is hard",
            "A standing commitment to discuss the CPM in monthly management meetings, technical support, focusing on behaviors in action, permission to *try on* the behaviors, and transparency throughout.",
            "Present the CPM as a framework rather than saying *we already do it*; protect time for strategic planning; invite supervisors and social workers into the development circles.",
            "Keep modeling and naming behaviors; a case-discussion series linking CPM behaviors to the work; present to labour partners; decide which readiness domains to assess and how to gather staff input.",
            "Name the *calling out* of behaviors up front — it feels clunky at first. Link behaviors back to the CPM, and reflect together when a behavior was missing and could have changed the outcome.",
        ],
        reflections: None,
    },
];

/// Loads what is missing.
pub async fn load(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    load_matrix(session, ids).await?;
    load_profiles(session, ids).await
}

async fn load_matrix(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    let county_id = county(ids, "sacramento")?;
    let (_, existing) = store::matrices(session, county_id).await?;
    if !existing.is_empty() {
        return Ok(());
    }
    let wave = collection::list(session, county_id)
        .await?
        .into_iter()
        .find(|a| a.title == LINKED_WAVE)
        .ok_or_else(|| anyhow::anyhow!("Sacramento's 2017 wave missing"))?;
    let lead = session.principal().as_lead_of(county_id)?;
    let change = session.change().await?;
    let matrix = store::create_matrix(
        &change,
        &lead,
        AdministrationId(wave.id),
        "SO WHAT? after the 2017 readiness wave".to_owned(),
    )
    .await?;
    for action in ACTIONS {
        let email = Email::parse("email", &format!("{}@sacramento.{DEMO_DOMAIN}", action.owner))?;
        let owner = people::user_id_by_email(change.db(), &email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo account {} missing", action.owner))?;
        let (y, m, d) = action.due_on;
        let text = ActionText::parse(
            "action",
            action.domain,
            action.learned,
            action.so_what,
            action.now_what,
            NaiveDate::from_ymd_opt(y, m, d),
            action.notes,
        )?;
        let created = store::add_action(&change, &lead, PlanningMatrixId(matrix.id), text, owner).await?;
        for status in action.path {
            store::set_action_status(&change, &lead, PlanningActionId(created.id), *status).await?;
        }
    }
    change.commit().await?;
    Ok(())
}

async fn load_profiles(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    let cohort = cohorts::list(session, &PageRequest { first: 100, after: None })
        .await?
        .items
        .into_iter()
        .find(|c| c.name == DEMO_COHORT)
        .map(|c| CohortId(c.id))
        .ok_or_else(|| anyhow::anyhow!("the demo cohort is missing"))?;
    let existing = store::profiles(session, Some(cohort)).await?;
    for profile in PROFILES {
        let county_id = county(ids, profile.county)?;
        if existing.iter().any(|(_, p)| p.county_id == county_id.0) {
            continue;
        }
        let lead = session.principal().as_lead_of(county_id)?;
        let sections = ProfileSections::parse("profile", profile.sections.map(Some))?;
        let change = session.change().await?;
        let created = store::create_profile(&change, &lead, cohort, sections).await?;
        let id = TestingProfileId(created.id);
        let mut row = created;
        let steps: &[ProfileStatus] = match profile.status {
            ProfileStatus::Draft => &[],
            ProfileStatus::Shared => &[ProfileStatus::Shared],
            ProfileStatus::Published => &[ProfileStatus::Shared, ProfileStatus::Published],
        };
        for step in steps {
            row = store::set_profile_status(&change, &lead, id, *step).await?;
        }
        if let Some(reflections) = profile.reflections {
            let buddy = store::buddy_of(session, &row)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{} has no buddy in the demo cohort", profile.county))?;
            let buddy_lead = session.principal().as_lead_of(buddy)?;
            let text = Reflections::parse("reflections", reflections.map(Some))?;
            store::save_reflections(&change, &buddy_lead, &row, text).await?;
        }
        change.commit().await?;
    }
    Ok(())
}
