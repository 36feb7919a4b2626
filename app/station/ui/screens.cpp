#include "screens.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "exhibit/station/hit_context.hpp"

namespace exhibit::station::ui {

namespace {

const char* kSteps[] = {"Sign in", "Case", "Device", "Plan", "Running", "Findings", "Seal"};
constexpr int kStepCount = 7;

std::string utc_time(std::int64_t t) {
    if (t <= 0) return "--";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

void label_value(const char* label, const std::string& value) {
    ImGui::TextDisabled("%s", label);
    ImGui::SameLine(ImGui::GetFontSize() * 7);
    ImGui::TextWrapped("%s", value.empty() ? "--" : value.c_str());
}

}  // namespace

void Screens::draw() {
    ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::Begin("##station", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus);
    top_bar();
    switch (model_.screen()) {
        case Screen::SignIn:
            sign_in();
            break;
        case Screen::Case:
            case_screen();
            break;
        case Screen::Device:
            device_screen();
            break;
        case Screen::Plan:
            plan_screen();
            break;
        case Screen::Running:
            running_screen();
            break;
        case Screen::Findings:
            findings_screen();
            break;
        case Screen::Seal:
            seal_screen();
            break;
        case Screen::Review:
            review_screen();
            break;
    }
    ImGui::End();
    ui_.keyboard_panel();
}

void Screens::top_bar() {
    const Palette& p = palette(ui_.theme);
    ImGui::PushFont(ui_.fonts.title);
    ImGui::TextUnformatted("Exhibit");
    ImGui::PopFont();
    int current = static_cast<int>(model_.screen());
    if (model_.reviewing()) {
        // The lab's review is no step of the scene's flow.
        ImGui::SameLine(0, ui_.metrics.spacing_px * 2);
        ui_.badge(
            model_.screen() == Screen::Findings ? "Lab review: findings (read-only)" : "Lab review",
            p.accent);
    }
    for (int i = 0; i < kStepCount && !model_.reviewing(); ++i) {
        ImGui::SameLine(0, ui_.metrics.spacing_px * 2);
        char step[48];
        std::snprintf(step, sizeof step, "%d %s", i + 1, kSteps[i]);
        if (i == current)
            ui_.badge(step, p.accent);
        else
            ImGui::TextColored(i < current ? ImGui::GetStyleColorVec4(ImGuiCol_Text) : p.muted,
                               "%s", step);
    }
    const char* theme_label = ui_.theme == Theme::Day ? "Night mode" : "Day mode";
    float w = ImGui::CalcTextSize(theme_label).x + ImGui::GetStyle().FramePadding.x * 2;
    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - w);
    ImGui::SetCursorPosY(ImGui::GetStyle().WindowPadding.y);
    if (ui_.button(theme_label)) {
        ui_.theme = ui_.theme == Theme::Day ? Theme::Night : Theme::Day;
        apply_theme(ui_.theme, ui_.metrics);
    }
    if (!model_.who.name.empty() && model_.screen() != Screen::SignIn) {
        ImGui::TextDisabled("Operator %s (%s)", model_.who.name.c_str(), model_.who.number.c_str());
        if (!model_.case_details.case_ref.empty()) {
            ImGui::SameLine(0, ui_.metrics.spacing_px * 3);
            ImGui::TextDisabled("Case %s  Exhibit %s", model_.case_details.case_ref.c_str(),
                                model_.case_details.exhibit_ref.c_str());
        }
    }
    ImGui::Separator();
}

void Screens::bottom_bar(const char* primary, bool primary_enabled, bool& primary_pressed) {
    // Pinned to the bottom of the window whatever the content's height.
    const float bar_h = ui_.metrics.target_px + ImGui::GetStyle().WindowPadding.y;
    ImGui::SetCursorPosY(ImGui::GetWindowHeight() - bar_h);
    ImGui::Separator();
    if (model_.screen() != Screen::SignIn) {
        bool can_back = !(model_.screen() == Screen::Running && model_.job().running()) &&
                        !model_.bundle_job().running();
        if (ui_.button("Back", ui_.metrics.target_px * 2.5f, can_back)) model_.go_back();
        ImGui::SameLine();
    }
    float pw = primary
                   ? std::max(ui_.metrics.target_px * 4,
                              ImGui::CalcTextSize(primary).x + ImGui::GetStyle().FramePadding.x * 2)
                   : 0;
    const std::string& msg = model_.message();
    if (!msg.empty()) {
        float avail = ImGui::GetContentRegionAvail().x - pw - ui_.metrics.spacing_px;
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + avail);
        ImGui::AlignTextToFramePadding();
        ImGui::TextColored(palette(ui_.theme).warn, "%s", msg.c_str());
        ImGui::PopTextWrapPos();
        ImGui::SameLine();
    }
    if (primary) {
        ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - pw);
        const Palette& p = palette(ui_.theme);
        if (primary_enabled) {
            ImGui::PushStyleColor(ImGuiCol_Button, p.accent);
            ImGui::PushStyleColor(ImGuiCol_ButtonHovered, p.accent);
            ImGui::PushStyleColor(ImGuiCol_Text, p.text_on_badge);
        }
        primary_pressed = ui_.button(primary, pw, primary_enabled);
        if (primary_enabled) ImGui::PopStyleColor(3);
    }
}

void Screens::sign_in() {
    ui_.title("Sign in");
    ImGui::TextWrapped("Who is operating this device? Every action is recorded under this name.");
    ImGui::Spacing();
    float w = std::min(ImGui::GetContentRegionAvail().x, ui_.metrics.target_px * 14);
    ui_.text_field("Operator name", model_.who.name, KeyboardLayout::Letters, 96, w);
    ui_.text_field("Collar or staff number", model_.who.number, KeyboardLayout::Numeric, 32, w);
    auto why = model_.sign_in_blocker();
    if (why) ImGui::TextDisabled("%s", why->c_str());
    ImGui::Spacing();
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted(
        "In the lab: open a sealed bundle to verify it and review its findings.");
    ui_.text_field("Bundle folder", model_.review_path, KeyboardLayout::Letters, 512, w);
    if (ui_.button("Open bundle", ui_.metrics.target_px * 5, !model_.review_blocker()))
        model_.open_bundle();
    if (!model_.review_path.empty())
        if (auto not_yet = model_.review_blocker()) ImGui::TextDisabled("%s", not_yet->c_str());
    bool go = false;
    bottom_bar("Sign in", !why, go);
    if (go) model_.sign_in();
}

void Screens::verdict_panel(const BundleVerdict& v) {
    const Palette& p = palette(ui_.theme);
    ImGui::PushFont(ui_.fonts.title);
    ImGui::TextColored(v.ok ? p.ok : p.bad, "%s", verdict_headline(v).c_str());
    ImGui::PopFont();
    // One row per check: what was checked, and the file or line at fault when it failed.
    if (ImGui::BeginTable("##checks", 3,
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH |
                              ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("result", ImGuiTableColumnFlags_WidthFixed,
                                ui_.metrics.target_px * 2.2f);
        ImGui::TableSetupColumn("check", ImGuiTableColumnFlags_WidthFixed,
                                ui_.metrics.target_px * 3.2f);
        ImGui::TableSetupColumn("message", ImGuiTableColumnFlags_WidthStretch);
        for (const auto& c : v.checks) {
            ImGui::TableNextRow(ImGuiTableRowFlags_None, ui_.metrics.target_px * 0.8f);
            ImGui::TableNextColumn();
            ui_.badge(c.ok ? "PASS" : "FAIL", c.ok ? p.ok : p.bad);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(c.name.c_str());
            ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", c.message.c_str());
        }
        ImGui::EndTable();
    }
}

void Screens::bundle_progress() {
    const BundleJob& job = model_.bundle_job();
    ProgressSnapshot s = job.progress();
    float frac = s.total ? static_cast<float>(s.done) / static_cast<float>(s.total) : 0.0f;
    char overlay[160];
    std::snprintf(overlay, sizeof overlay, "%s %s: %s of %s   %s", job.phase(), s.stage,
                  format_bytes(s.done).c_str(), s.total ? format_bytes(s.total).c_str() : "?",
                  format_rate(s.bytes_per_second).c_str());
    ImGui::ProgressBar(std::clamp(frac, 0.0f, 1.0f), ImVec2(-1, ui_.metrics.target_px), overlay);
}

void Screens::seal_screen() {
    const Palette& p = palette(ui_.theme);
    const BundleJob& job = model_.bundle_job();
    const auto& result = model_.bundle_result();
    ui_.title("Seal");
    const float bar_h = ui_.metrics.target_px * 1.6f;
    ImGui::BeginChild("##seal", ImVec2(0, ImGui::GetContentRegionAvail().y - bar_h), false);
    // The exhibit's hashes, large enough to read aloud or photograph.
    if (const AcquisitionResult* img = model_.image_result()) {
        ImGui::TextUnformatted("Exhibit image hashes");
        ImGui::PushFont(ui_.fonts.title);
        ImGui::TextWrapped("MD5      %s", img->hashes.md5.c_str());
        ImGui::TextWrapped("SHA-1    %s", img->hashes.sha1.c_str());
        ImGui::TextWrapped("SHA-256  %s", img->hashes.sha256.c_str());
        ImGui::PopFont();
        ImGui::Spacing();
    } else {
        ImGui::TextDisabled("No image was made: the bundle holds the triage findings and log.");
    }
    if (!job.running() && !(result && result->sealed)) {
        float w = std::min(ImGui::GetContentRegionAvail().x, ui_.metrics.target_px * 14);
        ui_.text_field("Output folder (empty: the case folder)", model_.seal_folder,
                       KeyboardLayout::Letters, 512, w);
        ImGui::TextWrapped("The bundle will be written to %s",
                           model_.seal_destination().string().c_str());
        auto why = model_.seal_blocker();
        if (why) ImGui::TextColored(p.warn, "%s", why->c_str());
        if (ui_.hold_button("Hold to seal", 2.0, ui_.metrics.target_px * 6, !why))
            model_.seal_case();
    }
    if (job.running()) {
        bundle_progress();
        ImGui::Spacing();
        if (ui_.hold_button("Hold to cancel", 2.0, ui_.metrics.target_px * 6))
            model_.cancel_bundle_job();
    }
    if (result) {
        if (result->sealed) {
            ImGui::TextColored(p.ok, "Sealed: %s", result->sealed->bundle.string().c_str());
            ImGui::PushFont(ui_.fonts.mono);
            ImGui::TextWrapped("Chain head      %s", result->sealed->chain_head.c_str());
            ImGui::TextWrapped("Key fingerprint %s", result->sealed->key_fingerprint.c_str());
            ImGui::PopFont();
        } else if (!result->error.empty()) {
            ImGui::TextColored(p.bad, "Not sealed: %s", result->error.c_str());
        }
        if (result->verdict) verdict_panel(*result->verdict);
    }
    ImGui::EndChild();
    bool go = false;
    bottom_bar(nullptr, false, go);
}

void Screens::review_screen() {
    const Palette& p = palette(ui_.theme);
    const BundleJob& job = model_.bundle_job();
    const auto& result = model_.bundle_result();
    ui_.title("Review a sealed bundle");
    ImGui::TextWrapped("%s", model_.review_path.c_str());
    const float bar_h = ui_.metrics.target_px * 1.6f;
    ImGui::BeginChild("##review", ImVec2(0, ImGui::GetContentRegionAvail().y - bar_h), false);
    if (job.running()) {
        ImGui::TextUnformatted(
            "Verifying every file, the custody chain, the seal and the image...");
        bundle_progress();
    } else if (result && result->verdict) {
        verdict_panel(*result->verdict);
        if (result->cancelled) ImGui::TextColored(p.warn, "Verification was cancelled.");
    }
    ImGui::EndChild();
    bool go = false;
    bottom_bar(job.running() ? nullptr : "Findings (read-only)", result && result->verdict, go);
    if (go) model_.review_findings();
}

void Screens::case_screen() {
    ui_.title("Case");
    const float avail = ImGui::GetContentRegionAvail().x;
    const float bar_h = ui_.metrics.target_px * 1.6f;
    ImGui::BeginChild("##case-form", ImVec2(avail * 0.6f, ImGui::GetContentRegionAvail().y - bar_h),
                      false);
    auto& c = model_.case_details;
    if (ImGui::BeginTable("##case-fields", 2)) {
        ImGui::TableNextColumn();
        ui_.text_field("Case reference", c.case_ref, KeyboardLayout::Letters, 64);
        ImGui::TableNextColumn();
        ui_.text_field("Exhibit reference", c.exhibit_ref, KeyboardLayout::Letters, 64);
        ImGui::TableNextColumn();
        ui_.text_field("Warrant reference", c.warrant_ref, KeyboardLayout::Letters, 64);
        ImGui::TableNextColumn();
        ui_.text_field("Location", c.location, KeyboardLayout::Letters, 128);
        ImGui::EndTable();
    }
    ui_.text_field("Notes", c.notes, KeyboardLayout::Letters, 1024);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##recent", ImVec2(0, ImGui::GetContentRegionAvail().y - bar_h), true);
    ImGui::TextUnformatted("Recent cases");
    if (model_.recent_cases().empty()) ImGui::TextDisabled("None yet on this station.");
    for (std::size_t i = 0; i < model_.recent_cases().size(); ++i) {
        const auto& r = model_.recent_cases()[i];
        std::string label = r.details.case_ref + "  /  " + r.details.exhibit_ref + "\n" +
                            r.operator_name + ", " + r.updated.substr(0, 16) + "##recent" +
                            std::to_string(i);
        if (ui_.row(label.c_str(), false, ui_.metrics.target_px * 1.4f)) model_.resume_case(i);
    }
    ImGui::EndChild();
    auto why = model_.case_blocker();
    bool go = false;
    bottom_bar("Continue", !why, go);
    if (go) model_.confirm_case();
}

void Screens::device_screen() {
    const Palette& p = palette(ui_.theme);
    ui_.title("Device");
    ImGui::TextDisabled(model_.watching_hotplug()
                            ? "Attach the exhibit: devices appear here as they are plugged in."
                            : "Attached devices (hotplug is not being watched).");
    const float bar_h = ui_.metrics.target_px * 1.6f;
    const float avail = ImGui::GetContentRegionAvail().x;
    ImGui::BeginChild("##devices", ImVec2(avail * 0.55f, ImGui::GetContentRegionAvail().y - bar_h),
                      true);
    const auto& list = model_.devices();
    if (list.empty()) ImGui::TextDisabled("No device attached.");
    const DeviceEntry* sel = model_.selected_device();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const DeviceEntry& d = list[i];
        std::string line1 = d.name + "   " + format_bytes(d.size_bytes) + "   " + d.bus;
        std::string line2 = d.vendor.empty() ? d.model : d.vendor + " " + d.model;
        if (!d.serial.empty()) line2 += "   serial " + d.serial;
        std::string label = line1 + "\n" + line2 + "##dev" + d.path;
        ImVec2 start = ImGui::GetCursorScreenPos();
        if (ui_.row(label.c_str(), sel && sel->path == d.path, ui_.metrics.target_px * 1.5f))
            model_.select_device(i);
        // The protection state sits on the row itself, in words and colour.
        ImVec4 colour = d.protection == Protection::Protected   ? p.ok
                        : d.protection == Protection::ImageFile ? p.info
                        : d.protection == Protection::Unknown   ? p.warn
                                                                : p.bad;
        const char* word = d.protection == Protection::Protected   ? "PROTECTED"
                           : d.protection == Protection::ImageFile ? "READ-ONLY FILE"
                           : d.protection == Protection::Unknown   ? "UNKNOWN"
                                                                   : "NOT PROTECTED";
        ImVec2 ts = ImGui::CalcTextSize(word);
        float pad = ui_.metrics.spacing_px;
        ImVec2 b(ImGui::GetItemRectMax().x - pad, start.y + pad);
        ImVec2 a(b.x - ts.x - 2 * pad, b.y);
        ImGui::GetWindowDrawList()->AddRectFilled(a, ImVec2(b.x, b.y + ts.y + pad),
                                                  ImGui::GetColorU32(colour), 6);
        ImGui::GetWindowDrawList()->AddText(ImVec2(a.x + pad, a.y + pad / 2),
                                            ImGui::GetColorU32(p.text_on_badge), word);
    }
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##device-detail", ImVec2(0, ImGui::GetContentRegionAvail().y - bar_h), true);
    if (!sel) {
        ImGui::TextWrapped("Tap a device to see its details.");
    } else {
        label_value("Device", sel->path);
        label_value("Make", sel->vendor);
        label_value("Model", sel->model);
        label_value("Serial", sel->serial);
        label_value("Capacity", format_bytes(sel->size_bytes));
        label_value(
            "Protection",
            std::string(to_string(sel->protection)) +
                (sel->protection_detail.empty() ? "" : " (" + sel->protection_detail + ")"));
        ImGui::Spacing();
        if (sel->protection != Protection::Protected && sel->protection != Protection::ImageFile) {
            if (ui_.button(model_.protecting() ? "Making read-only..." : "Make read-only", -1,
                           !model_.protecting()))
                model_.protect_selected();
            ImGui::Spacing();
            if (model_.override_active()) {
                ui_.badge("OVERRIDE RECORDED", p.warn);
                ImGui::TextWrapped("Behind hardware write-blocker: %s",
                                   model_.override_text().c_str());
            } else {
                ImGui::TextWrapped(
                    "Only if the device is attached through a hardware write-blocker:");
                ui_.text_field("Write-blocker make, model, serial", model_.hardware_blocker);
                if (ui_.hold_button("Hold to declare write-blocker", 2.0, -1,
                                    !model_.override_blocker()))
                    model_.apply_override();
            }
        }
    }
    ImGui::EndChild();
    auto why = model_.device_blocker();
    bool go = false;
    bottom_bar("Continue", !why, go);
    if (go) model_.confirm_device();
}

void Screens::plan_screen() {
    ui_.title("Plan");
    const DeviceEntry* d = model_.selected_device();
    if (d)
        ImGui::Text("%s  %s %s  %s", d->name.c_str(), d->vendor.c_str(), d->model.c_str(),
                    format_bytes(d->size_bytes).c_str());
    const float bar_h = ui_.metrics.target_px * 1.6f;
    const float h = ImGui::GetContentRegionAvail().y - bar_h;
    const float avail = ImGui::GetContentRegionAvail().x;

    ImGui::BeginChild("##plan-job", ImVec2(avail * 0.5f, h), false);
    int kind = model_.plan.kind == JobKind::TriageOnly ? 0 : 1;
    ImGui::TextUnformatted("What to do");
    if (ui_.choice("kind", kind, {"Triage only", "Triage and image"}))
        model_.plan.kind = kind == 0 ? JobKind::TriageOnly : JobKind::TriageAndImage;
    if (model_.plan.kind == JobKind::TriageAndImage) {
        int fmt = model_.plan.format == ImageFormat::Ewf ? 0 : 1;
        ImGui::TextUnformatted("Image format");
        if (ui_.choice("format", fmt, {"E01", "Raw"}))
            model_.plan.format = fmt == 0 ? ImageFormat::Ewf : ImageFormat::Raw;
        ImGui::SameLine(0, ui_.metrics.spacing_px * 3);
        int verify = model_.plan.verify ? 0 : 1;
        if (ui_.choice("verify", verify, {"Verify", "No verify"})) model_.plan.verify = verify == 0;
        ui_.text_field("Output folder (empty: the case folder)", model_.plan.output_dir,
                       KeyboardLayout::Letters, 512);
        if (model_.plan.output_dir.empty())
            ImGui::TextDisabled("%s",
                                model_.case_store().image_folder(model_.case_details).c_str());
    }
    ImGui::Spacing();
    Estimate e = model_.estimate();
    ImGui::PushFont(ui_.fonts.title);
    const std::string eta = format_duration(e.total_seconds);
    // "up to under 1 s" says nothing the shorter form does not.
    ImGui::TextWrapped("Estimated time: %s%s", eta.rfind("under", 0) == 0 ? "" : "up to ",
                       eta.c_str());
    ImGui::PopFont();
    if (model_.measuring_speed())
        ImGui::TextDisabled("Measuring the device's read speed...");
    else
        ImGui::TextDisabled("%s read speed %s", e.measured ? "Measured" : "Assumed (not measured)",
                            format_rate(e.rate).c_str());
    ImGui::EndChild();
    ImGui::SameLine();

    // Matching: what is installed, all chosen to begin with; a tap leaves one out.
    ImGui::BeginChild("##plan-matching", ImVec2(0, h), true);
    const InstalledMatching& inst = model_.installed();
    ImGui::TextDisabled("Every file is hashed (MD5, SHA-1, SHA-256) and typed.");
    if (model_.loading_installed()) ImGui::TextDisabled("Looking for hash sets and rules...");
    // Toggle chips that flow along the line and wrap, so a dozen packs fit on the screen.
    const Palette& pal = palette(ui_.theme);
    bool first_chip = true;
    auto toggle_row = [&](const std::string& text, bool on, const std::string& id) {
        std::string label = std::string(on ? "\xE2\x9C\x93 " : "") + text + "##" + id;
        float w = ImGui::CalcTextSize(label.c_str(), nullptr, true).x +
                  ImGui::GetStyle().FramePadding.x * 2;
        if (!first_chip) {
            ImGui::SameLine();
            if (ImGui::GetCursorPosX() + w > ImGui::GetWindowContentRegionMax().x) ImGui::NewLine();
        }
        first_chip = false;
        if (on) {
            ImGui::PushStyleColor(ImGuiCol_Button, pal.accent);
            ImGui::PushStyleColor(ImGuiCol_ButtonHovered, pal.accent);
            ImGui::PushStyleColor(ImGuiCol_Text, pal.text_on_badge);
        }
        bool tapped = ui_.button(label.c_str(), std::max(w, ui_.metrics.target_px));
        if (on) ImGui::PopStyleColor(3);
        return tapped;
    };
    ImGui::TextUnformatted("Hash sets");
    first_chip = true;
    if (inst.hash_sets.empty()) ImGui::TextDisabled("  none installed");
    for (const auto& set : inst.hash_sets) {
        const auto& chosen = model_.plan.hash_sets;
        bool on = std::find(chosen.begin(), chosen.end(), set.name) != chosen.end();
        std::string text = set.name + "  (" + to_string(set.kind) + ", " +
                           std::to_string(set.counts.imported) + " hashes)";
        if (toggle_row(text, on, "hs:" + set.name)) model_.toggle_hash_set(set.name);
    }
    ImGui::TextUnformatted("YARA rule packs");
    first_chip = true;
    if (inst.rule_packs.empty()) ImGui::TextDisabled("  none installed");
    for (const auto& pack : inst.rule_packs) {
        const auto& chosen = model_.plan.rule_packs;
        bool on = std::find(chosen.begin(), chosen.end(), pack) != chosen.end();
        if (toggle_row(pack.stem().string(), on, "rp:" + pack.string()))
            model_.toggle_rule_pack(pack);
    }
    ImGui::TextUnformatted("Keyword lists");
    first_chip = true;
    for (const auto& list : inst.keyword_lists) {
        bool on = model_.plan.keyword_list == list;
        if (toggle_row(list.stem().string(), on, "kw:" + list.string()))
            model_.plan.keyword_list = on ? std::filesystem::path() : list;
    }
    ui_.text_field("Case keywords (comma-separated)", model_.plan.case_keywords,
                   KeyboardLayout::Letters, 1024);
    ImGui::EndChild();

    bool go = false;
    bottom_bar("Start", !model_.start_blocker(), go);
    if (go) model_.start_job();
}

void Screens::running_screen() {
    const Palette& p = palette(ui_.theme);
    const auto& job = model_.job();
    ui_.title(job.running() ? "Running" : "Finished");
    ImGui::Text("Elapsed %s", format_duration(job.elapsed_seconds()).c_str());
    for (const StageView& s : model_.stages()) {
        ImGui::Spacing();
        ImGui::Text("%s: %s (%s)", s.name.c_str(), to_string(s.state), s.progress.stage);
        float frac = s.progress.total ? static_cast<float>(s.progress.done) /
                                            static_cast<float>(s.progress.total)
                                      : (s.state == StageState::Done ? 1.0f : 0.0f);
        char overlay[160];
        std::string amount = s.progress.total ? format_bytes(s.progress.done) + " of " +
                                                    format_bytes(s.progress.total)
                                              : format_bytes(s.progress.done) + " read";
        std::string eta =
            s.state == StageState::Running ? format_duration(s.progress.eta_seconds) : "--";
        std::snprintf(overlay, sizeof overlay, "%s   %s   ETA %s", amount.c_str(),
                      format_rate(s.progress.bytes_per_second).c_str(), eta.c_str());
        ImGui::ProgressBar(std::clamp(frac, 0.0f, 1.0f), ImVec2(-1, ui_.metrics.target_px),
                           overlay);
        if (s.progress.unreadable_sectors)
            ImGui::TextColored(p.bad, "%" PRIu64 " unreadable sectors",
                               s.progress.unreadable_sectors);
    }
    // Live: entries found by the walk (progress snapshot, every frame) and what the case
    // database holds so far (polled on a worker about once a second).
    {
        std::uint64_t entries = 0, read = 0, to_read = 0;
        for (const StageView& s : model_.stages())
            if (s.name == "Triage") {
                entries = s.progress.entries;
                read = s.progress.files_done;
                to_read = s.progress.files_total;
            }
        const LiveCounts& live = model_.live();
        entries = std::max<std::uint64_t>(entries, live.files);
        ImGui::Spacing();
        ImGui::PushFont(ui_.fonts.title);
        ImGui::Text("Files found: %" PRIu64, entries);
        ImGui::PopFont();
        if (to_read)
            ImGui::Text("Contents read: %" PRIu64 " of %" PRIu64 "   recorded: %" PRIu64, read,
                        to_read, live.files);
        static const char* kKinds[][2] = {
            {"hashset", "Hash sets"}, {"yara", "YARA"}, {"keyword", "Keywords"}};
        for (int k = 0; k < 3; ++k) {
            if (k > 0) ImGui::SameLine(0, ui_.metrics.spacing_px * 2);
            auto it = live.hits.find(kKinds[k][0]);
            std::uint64_t n = it == live.hits.end() ? 0 : it->second;
            char text[64];
            std::snprintf(text, sizeof text, "%s: %" PRIu64, kKinds[k][1], n);
            ui_.badge(text, n ? p.bad : p.muted);
        }
    }
    ImGui::Spacing();
    ImGui::TextUnformatted("Throughput (MB/s)");
    const auto& tp = model_.throughput();
    float top = 1;
    for (float v : tp)
        top = std::max(top, v);
    char peak[48];
    std::snprintf(peak, sizeof peak, "peak %.0f MB/s", static_cast<double>(top));
    if (tp.size() >= 2) {
        // Drawn by hand: ImGui's plot shows values only in a hover tooltip.
        ImVec2 a = ImGui::GetCursorScreenPos();
        ImVec2 size(ImGui::GetContentRegionAvail().x, ui_.metrics.target_px * 2.5f);
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(a, ImVec2(a.x + size.x, a.y + size.y),
                          ImGui::GetColorU32(ImGuiCol_FrameBg), 6);
        dl->AddRect(a, ImVec2(a.x + size.x, a.y + size.y), ImGui::GetColorU32(ImGuiCol_Border), 6,
                    0, 2);
        std::vector<ImVec2> points;
        float pad = ui_.metrics.spacing_px;
        for (std::size_t i = 0; i < tp.size(); ++i)
            points.emplace_back(
                a.x + pad +
                    (size.x - 2 * pad) * static_cast<float>(i) / static_cast<float>(tp.size() - 1),
                a.y + size.y - pad - (size.y - 2 * pad) * tp[i] / (top * 1.1f));
        dl->AddPolyline(points.data(), static_cast<int>(points.size()),
                        ImGui::GetColorU32(ImGuiCol_PlotLines), 0, 3);
        dl->AddText(ImVec2(a.x + pad, a.y + pad / 2), ImGui::GetColorU32(ImGuiCol_Text), peak);
        ImGui::Dummy(size);
    } else
        ImGui::TextDisabled(job.running() ? "Measuring..." : "The job was too short to chart.");
    if (const auto& out = model_.outcome()) {
        ImGui::Spacing();
        ImGui::TextColored(out->completed   ? p.ok
                           : out->cancelled ? p.warn
                                            : p.bad,
                           "%s",
                           out->completed   ? "Completed"
                           : out->cancelled ? "Cancelled"
                                            : "Failed");
        ImGui::TextWrapped("%s", out->summary.c_str());
        if (out->triage)
            ImGui::Text("Files found: %" PRIu64 "   hashed: %" PRIu64 "   errors: %" PRIu64,
                        out->triage->files, out->triage->files_hashed, out->triage->errors);
        if (out->hit_counts.empty() && out->triage) ImGui::TextUnformatted("Hits: none");
        ImGui::PushStyleColor(ImGuiCol_Text, p.warn);
        for (const auto& problem : out->rule_problems)
            ImGui::TextWrapped("%s", problem.c_str());  // a long path must not run off
        ImGui::PopStyleColor();
        if (out->image && !out->image->hashes.sha256.empty()) {
            ImGui::PushFont(ui_.fonts.mono);
            ImGui::TextWrapped("MD5     %s", out->image->hashes.md5.c_str());
            ImGui::TextWrapped("SHA-1   %s", out->image->hashes.sha1.c_str());
            ImGui::TextWrapped("SHA-256 %s", out->image->hashes.sha256.c_str());
            ImGui::PopFont();
        }
    }
    if (job.running()) {
        ImGui::Spacing();
        if (job.cancel_requested())
            ImGui::TextColored(p.warn, "Cancelling...");
        else if (ui_.hold_button("Hold to cancel", 2.0, ui_.metrics.target_px * 6))
            model_.cancel_job();
    }
    bool go = false;
    bottom_bar(job.running() ? nullptr : "Findings", model_.outcome() && model_.outcome()->triage,
               go);
    if (go) model_.show_findings();
}

void Screens::file_details(const FindingsIndex& index, std::size_t file) {
    const FileEntry& f = index.files[file].entry;
    const Palette& p = palette(ui_.theme);
    ImGui::PushFont(ui_.fonts.title);
    ImGui::TextWrapped("%s", f.name.c_str());
    ImGui::PopFont();
    if (f.deleted()) ui_.badge("DELETED", p.bad);
    label_value("Path", "/" + f.path + (f.stream.empty() ? "" : ":" + f.stream));
    label_value("Size", format_bytes(f.size) + " (" + std::to_string(f.size) + " bytes)");
    label_value("Type", f.findings.mime_type);
    if (f.findings.extension_mismatch)
        ImGui::TextColored(p.warn, "The name's extension does not match the content.");
    if (!f.findings.hits.empty()) {
        ImGui::Spacing();
        ImGui::Text("Hits in this file: %zu", f.findings.hits.size());
    }
    for (const Hit& h : f.findings.hits) {
        HitContext c = describe_hit(h);
        ImGui::Spacing();
        ImGui::PushStyleColor(ImGuiCol_Text, c.kind == "keyword" ? p.warn : p.bad);
        ImGui::TextWrapped("%s", c.heading.c_str());
        ImGui::PopStyleColor();
        ImGui::Indent(ui_.metrics.spacing_px * 2);
        for (const auto& line : c.lines)
            ImGui::TextWrapped("%s", line.c_str());
        ImGui::Unindent(ui_.metrics.spacing_px * 2);
    }
    if (!f.findings.hits.empty()) {
        ImGui::Spacing();
        ImGui::Separator();
    }
    label_value("Modified", utc_time(f.modified));
    label_value("Accessed", utc_time(f.accessed));
    label_value("Changed", utc_time(f.changed));
    label_value("Created", utc_time(f.created));
    label_value("Inode", std::to_string(f.meta_address));
    if (!f.findings.hash_status.empty()) label_value("Hash sets", f.findings.hash_status);
    if (!f.content_error.empty()) label_value("Not read", f.content_error);
    for (const std::string& why : scan_notes_for(index, file)) {
        ImGui::PushStyleColor(ImGuiCol_Text, p.warn);
        ImGui::TextWrapped("Not fully scanned: %s", why.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::PushFont(ui_.fonts.mono);
    if (!f.findings.hashes.md5.empty()) {
        ImGui::TextWrapped("MD5    %s", f.findings.hashes.md5.c_str());
        ImGui::TextWrapped("SHA1   %s", f.findings.hashes.sha1.c_str());
        ImGui::TextWrapped("SHA256 %s", f.findings.hashes.sha256.c_str());
    }
    ImGui::PopFont();
}

void Screens::findings_screen() {
    const Palette& p = palette(ui_.theme);
    ui_.title("Findings");
    const FindingsIndex* idx = model_.findings();
    const float bar_h = ui_.metrics.target_px * 1.6f;
    if (!idx) {
        ImGui::TextDisabled(model_.loading_findings() ? "Loading..." : "No findings loaded.");
        bool go = false;
        bottom_bar(nullptr, false, go);
        return;
    }
    ImGui::AlignTextToFramePadding();
    ImGui::Text("%zu files, %zu deleted, %zu partitions", idx->files.size(), idx->deleted,
                idx->partitions.size());
    // The other views of the same files, always in reach above the panes.
    auto view_button = [&](const char* label, bool on) {
        ImGui::SameLine(0, ui_.metrics.spacing_px * 2);
        if (on) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
        bool pressed = ui_.button(label);
        if (on) ImGui::PopStyleColor();
        return pressed;
    };
    const bool browsing = !findings_.pictures && !findings_.timeline;
    if (view_button("Files##view-files", browsing)) {
        findings_.pictures = findings_.timeline = false;
    }
    std::string pictures_label =
        "Pictures (" + std::to_string(model_.pictures().size()) + ", blurred)##pictures";
    if (view_button(pictures_label.c_str(), findings_.pictures)) {
        findings_.pictures = true;
        findings_.timeline = false;
        findings_.group = -1;
    }
    if (view_button("Timeline##timeline", findings_.timeline)) {
        findings_.timeline = true;
        findings_.pictures = false;
        findings_.group = -1;
        findings_.bucket = -1;
    }
    const float h = ImGui::GetContentRegionAvail().y - bar_h;
    const float avail = ImGui::GetContentRegionAvail().x;

    // Hits first.
    ImGui::BeginChild("##groups", ImVec2(avail * 0.26f, h), true);
    ImGui::TextUnformatted("Hits and flags");
    if (idx->groups.empty()) ImGui::TextDisabled("Nothing flagged.");
    for (std::size_t i = 0; i < idx->groups.size(); ++i) {
        const auto& g = idx->groups[i];
        std::string count =
            std::to_string(g.files.size()) + (g.files.size() == 1 ? " file" : " files");
        if (g.kind == "scan-note") {
            // A rule file left out names no evidence file: "0 files" would read as "nothing".
            const std::size_t n = idx->scan_notes.size();
            count = std::to_string(n) + (n == 1 ? " note" : " notes") +
                    (g.files.empty() ? "" : ", " + count);
        }
        std::string label = g.title + "\n" + count + "##group" + std::to_string(i);
        if (ui_.row(label.c_str(), findings_.group == static_cast<int>(i),
                    ui_.metrics.target_px * 1.4f)) {
            findings_.group = static_cast<int>(i);
            findings_.timeline = false;
            findings_.pictures = false;
        }
    }
    ImGui::EndChild();
    ImGui::SameLine();

    // The browser: one partition, one folder (or one group's files) at a time.
    ImGui::BeginChild("##browser", ImVec2(avail * 0.40f, h), true);
    std::vector<std::size_t> fallback;
    const std::vector<std::size_t>* entries = &fallback;
    bool draw_entries = true;
    if (!findings_.pictures && !textures_.empty()) drop_textures();
    if (findings_.pictures) {
        draw_entries = false;
        picture_grid(*idx);
    } else if (findings_.timeline) {
        const Timeline& t = findings_.time_field == 0 ? idx->modified : idx->created;
        if (ui_.choice("time", findings_.time_field, {"Modified", "Created"}))
            findings_.bucket = -1;
        if (findings_.bucket >= 0 && findings_.bucket < static_cast<int>(t.buckets.size())) {
            const TimelineBucket& b = t.buckets[static_cast<std::size_t>(findings_.bucket)];
            if (ui_.button("All times")) findings_.bucket = -1;
            ImGui::SameLine();
            ImGui::AlignTextToFramePadding();
            ImGui::TextWrapped("%s %s: %zu files", to_string(t.field), bucket_label(t, b).c_str(),
                               b.files.size());
            if (findings_.bucket >= 0) entries = &b.files;
        } else {
            draw_entries = false;
            ImGui::TextWrapped("Files %s per %s; %zu without a time.", to_string(t.field),
                               to_string(t.unit), t.without_time);
            // A histogram on its side: one touch-sized row per bucket, its bar as long as
            // its count; tap a row to list its files.
            ImGui::BeginChild("##buckets");
            ImGuiListClipper bars;
            bars.Begin(static_cast<int>(t.buckets.size()),
                       ui_.metrics.target_px + ImGui::GetStyle().ItemSpacing.y);
            while (bars.Step()) {
                for (int i = bars.DisplayStart; i < bars.DisplayEnd; ++i) {
                    const TimelineBucket& b = t.buckets[static_cast<std::size_t>(i)];
                    std::string label = bucket_label(t, b) + "   " +
                                        std::to_string(b.files.size()) + "##bucket" +
                                        std::to_string(i);
                    if (ui_.row(label.c_str(), false) && !b.files.empty()) findings_.bucket = i;
                    ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
                    float room = (hi.x - lo.x) * 0.45f;
                    float len = t.max_count ? room * static_cast<float>(b.files.size()) /
                                                  static_cast<float>(t.max_count)
                                            : 0;
                    float pad = (hi.y - lo.y) * 0.25f;
                    if (len > 0)
                        ImGui::GetWindowDrawList()->AddRectFilled(
                            ImVec2(hi.x - room - pad, lo.y + pad),
                            ImVec2(hi.x - room - pad + len, hi.y - pad), ImGui::GetColorU32(p.info),
                            3);
                }
            }
            ImGui::EndChild();
        }
    } else if (findings_.group >= 0 && findings_.group < static_cast<int>(idx->groups.size())) {
        const FindingGroup& g = idx->groups[static_cast<std::size_t>(findings_.group)];
        if (ui_.button("All files")) findings_.group = -1;
        ImGui::SameLine();
        ImGui::AlignTextToFramePadding();
        ImGui::TextWrapped("%s", g.title.c_str());
        if (g.kind == "scan-note") {
            // Each note with its reason; tap one that names a file to see the file.
            draw_entries = false;
            ImGui::BeginChild("##notes");
            for (std::size_t i = 0; i < idx->scan_notes.size(); ++i) {
                const ScanNoteView& v = idx->scan_notes[i];
                const char* why = v.note.kind == "yara-truncated" ? "Scanned in part"
                                  : v.note.kind == "yara-error"   ? "Scan failed"
                                  : v.note.kind == "rule-file"    ? "Rule file left out"
                                                                  : v.note.kind.c_str();
                ImGui::PushStyleColor(ImGuiCol_Text, p.warn);
                ImGui::TextUnformatted(why);
                ImGui::PopStyleColor();
                ImGui::TextWrapped("%s", v.note.message.c_str());
                if (!v.files.empty()) {
                    std::string label = "Show the file##note" + std::to_string(i);
                    bool on = findings_.file == static_cast<long long>(v.files.front());
                    if (ui_.row(label.c_str(), on))
                        findings_.file = static_cast<long long>(v.files.front());
                }
                ImGui::Separator();
            }
            ImGui::EndChild();
        } else if (findings_.group >= 0) {
            entries = &g.files;
        }
    } else if (!idx->partitions.empty()) {
        findings_.partition =
            std::clamp(findings_.partition, 0, static_cast<int>(idx->partitions.size()) - 1);
        for (std::size_t i = 0; i < idx->partitions.size(); ++i) {
            if (i > 0) ImGui::SameLine();
            std::string label = idx->partitions[i].label + "##part" + std::to_string(i);
            bool on = findings_.partition == static_cast<int>(i);
            if (on)
                ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_Header));
            if (ui_.button(label.c_str())) {
                findings_.partition = static_cast<int>(i);
                findings_.folder.clear();
            }
            if (on) ImGui::PopStyleColor();
        }
        const PartitionView& part = idx->partitions[findings_.partition];
        if (ui_.button("Up", ui_.metrics.target_px * 2, !findings_.folder.empty()))
            findings_.folder = parent_folder(findings_.folder);
        ImGui::SameLine();
        ImGui::AlignTextToFramePadding();
        ImGui::TextWrapped("/%s", findings_.folder.c_str());
        auto it = part.children.find(findings_.folder);
        if (it != part.children.end()) entries = &it->second;
    }
    if (draw_entries) {
        ImGui::BeginChild("##entries");
        ImGuiListClipper clipper;
        clipper.Begin(static_cast<int>(entries->size()),
                      ui_.metrics.target_px + ImGui::GetStyle().ItemSpacing.y);
        while (clipper.Step()) {
            for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
                std::size_t fi = (*entries)[i];
                const FileEntry& f = idx->files[fi].entry;
                bool dir = f.name_type == 'd';
                std::string label = (dir ? "[dir] " : "") + f.name +
                                    (f.stream.empty() ? "" : ":" + f.stream) +
                                    (dir ? "" : "   " + format_bytes(f.size)) +
                                    (f.deleted() ? "   DELETED" : "") + "##f" + std::to_string(fi);
                if (f.deleted()) ImGui::PushStyleColor(ImGuiCol_Text, p.bad);
                if (ui_.row(label.c_str(), findings_.file == static_cast<long long>(fi))) {
                    if (dir && findings_.group < 0 && !findings_.timeline)
                        findings_.folder = f.path;
                    else
                        findings_.file = static_cast<long long>(fi);
                }
                if (f.deleted()) ImGui::PopStyleColor();
            }
        }
        ImGui::EndChild();
    }
    ImGui::EndChild();
    ImGui::SameLine();

    ImGui::BeginChild("##details", ImVec2(0, h), true);
    if (findings_.file >= 0 && findings_.file < static_cast<long long>(idx->files.size()))
        file_details(*idx, static_cast<std::size_t>(findings_.file));
    else
        ImGui::TextDisabled("Tap a file to see its details.");
    ImGui::EndChild();
    bool go = false;
    bottom_bar(model_.reviewing() ? nullptr : "Seal", !model_.reviewing(), go);
    if (go) model_.show_seal();
}

}  // namespace exhibit::station::ui

namespace exhibit::station::ui {

void Screens::drop_textures() {
    if (ui_.free_texture)
        for (auto& [file, t] : textures_)
            ui_.free_texture(t.id);
    textures_.clear();
}

// The device's pictures as a grid of tiles, every one blurred until the examiner taps
// "Reveal" on it (which blurs the one revealed before). Known-bad pictures come first and
// show their hash-set category on a plain tile; seeing one needs a hold.
void Screens::picture_grid(const FindingsIndex& index) {
    const Palette& p = palette(ui_.theme);
    const auto& pictures = model_.pictures();
    if (pictures.empty()) {
        ImGui::TextDisabled("No pictures on this device.");
        return;
    }
    ImGui::TextWrapped("%zu pictures, blurred. Tap Reveal to see one.", pictures.size());
    // The scroll bar always there, so the tiles are laid out in the width left beside it
    // and none is cut off at the right edge.
    ImGui::BeginChild("##grid", ImVec2(0, 0), false, ImGuiWindowFlags_AlwaysVerticalScrollbar);
    const float gap = ui_.metrics.spacing_px;
    const float avail = ImGui::GetContentRegionAvail().x;
    const float tile = std::max(ui_.metrics.target_px * 2.5f,
                                std::min(ui_.metrics.target_px * 4.0f, avail / 2 - gap));
    const int columns = std::max(1, static_cast<int>((avail + gap) / (tile + gap)));
    const float name_h = ImGui::GetTextLineHeightWithSpacing();
    const float cell_h =
        tile + name_h + ui_.metrics.target_px + ImGui::GetStyle().ItemSpacing.y * 3;
    const int rows = static_cast<int>((pictures.size() + columns - 1) / columns);
    std::map<std::size_t, bool> visible;
    int first_row = rows, end_row = 0;
    ImGuiListClipper clipper;
    clipper.Begin(rows, cell_h);
    while (clipper.Step()) {
        first_row = std::min(first_row, clipper.DisplayStart);
        end_row = std::max(end_row, clipper.DisplayEnd);
        for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
            for (int c = 0; c < columns; ++c) {
                std::size_t k = static_cast<std::size_t>(r) * columns + c;
                if (k >= pictures.size()) break;
                const std::size_t file = pictures[k];
                const FileEntry& f = index.files[file].entry;
                const bool known_bad = f.findings.hash_status == "known-bad";
                const bool shown = model_.reveal.shown(file);
                if (c > 0) ImGui::SameLine(0, gap);
                ImGui::BeginGroup();
                ImVec2 a = ImGui::GetCursorScreenPos();
                ImVec2 b(a.x + tile, a.y + tile);
                ImDrawList* dl = ImGui::GetWindowDrawList();
                dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_FrameBg), 6);
                model_.request_thumbnail(file);
                const auto* thumb = model_.thumbnail(file);
                visible[file] = true;
                if (known_bad && !shown) {
                    // By category, never by picture first.
                    std::string what = "Known-bad";
                    for (const Hit& h : f.findings.hits)
                        if (h.kind == "hashset")
                            what = "Known-bad:\n" + (h.category.empty() ? h.name : h.category);
                    dl->AddRectFilled(a, b, ImGui::GetColorU32(p.bad), 6);
                    dl->AddText(nullptr, 0, ImVec2(a.x + gap, a.y + gap),
                                ImGui::GetColorU32(p.text_on_badge), what.c_str(), nullptr,
                                tile - 2 * gap);
                } else if (thumb && !thumb->loading && thumb->error.empty()) {
                    const Thumbnail& img = shown ? thumb->sharp : thumb->blurred;
                    auto it = textures_.find(file);
                    if (ui_.make_texture && (it == textures_.end() || it->second.sharp != shown)) {
                        if (it != textures_.end() && ui_.free_texture)
                            ui_.free_texture(it->second.id);
                        textures_[file] = {ui_.make_texture(img.rgba.data(), img.width, img.height),
                                           shown};
                        it = textures_.find(file);
                    }
                    float scale = tile / static_cast<float>(std::max(img.width, img.height));
                    float w = img.width * scale, h = img.height * scale;
                    ImVec2 ia(a.x + (tile - w) / 2, a.y + (tile - h) / 2);
                    if (it != textures_.end())
                        dl->AddImage(it->second.id, ia, ImVec2(ia.x + w, ia.y + h));
                } else if (thumb && !thumb->loading) {
                    dl->AddText(ImVec2(a.x + gap, a.y + gap), ImGui::GetColorU32(p.muted),
                                "Cannot show");
                } else {
                    // Not decoded yet: a quiet tile, no text flashing past in a fling.
                    const float inset = tile * 0.2f;
                    dl->AddRectFilled(ImVec2(a.x + inset, a.y + inset),
                                      ImVec2(b.x - inset, b.y - inset),
                                      ImGui::GetColorU32(ImGuiCol_Border, 0.12f), 6);
                }
                ImGui::Dummy(ImVec2(tile, tile));
                // Deleted is said on the tile itself, where a long name cannot cut it off.
                if (f.deleted()) {
                    const char* word = "DELETED";
                    const ImVec2 ws = ImGui::CalcTextSize(word);
                    const float pad = gap / 2;
                    dl->AddRectFilled(ImVec2(a.x, b.y - ws.y - 2 * pad), b,
                                      ImGui::GetColorU32(p.bad), 6, ImDrawFlags_RoundCornersBottom);
                    dl->AddText(ImVec2(a.x + pad, b.y - ws.y - pad),
                                ImGui::GetColorU32(p.text_on_badge), word);
                }
                // The name, cut at the tile's width; drawn, not laid out, so a long name does
                // not widen the cell and push the next tile towards the scroll bar.
                {
                    const ImVec2 at = ImGui::GetCursorScreenPos();
                    const ImVec4 clip(at.x, at.y, at.x + tile, at.y + name_h);
                    dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), at,
                                ImGui::GetColorU32(ImGuiCol_Text), f.name.c_str(), nullptr, 0,
                                &clip);
                    ImGui::Dummy(ImVec2(tile, name_h - ImGui::GetStyle().ItemSpacing.y));
                }
                // By grid position, zero-padded: scripts find the top-left tile first.
                char id[32];
                std::snprintf(id, sizeof id, "##pic%06zu", k);
                bool act = false;
                if (shown)
                    act = ui_.button((std::string("Blur") + id).c_str(), tile);
                else if (known_bad)
                    act = ui_.hold_button((std::string("Hold to reveal") + id).c_str(), 2.0, tile);
                else
                    act = ui_.button((std::string("Reveal") + id).c_str(), tile);
                if (act) {
                    if (shown) {
                        model_.reveal.hide();
                    } else {
                        model_.reveal.reveal(file);
                        model_.record("picture revealed", "/" + f.path);
                    }
                    findings_.file = static_cast<long long>(file);
                }
                ImGui::EndGroup();
            }
        }
    }
    // The rows the grid moves towards, asked for after the tiles on screen (which the
    // worker therefore takes first), so a fling finds them decoded.
    const float scroll = ImGui::GetScrollY();
    if (scroll > grid_scroll_ + 0.5f || scroll < grid_scroll_ - 0.5f) {
        grid_direction_ = scroll > grid_scroll_ ? 1 : -1;
        grid_still_frames_ = 0;
    } else if (++grid_still_frames_ > 30) {
        grid_direction_ = 0;
    }
    grid_scroll_ = scroll;
    if (first_row < end_row)
        for (int r : prefetch_rows(first_row, end_row, rows, grid_direction_))
            for (int c = 0; c < columns; ++c) {
                const std::size_t k = static_cast<std::size_t>(r) * columns + c;
                if (k < pictures.size()) model_.request_thumbnail(pictures[k]);
            }
    ImGui::EndChild();
    // Textures of pictures scrolled away are freed.
    for (auto it = textures_.begin(); it != textures_.end();) {
        if (visible.count(it->first)) {
            ++it;
        } else {
            if (ui_.free_texture) ui_.free_texture(it->second.id);
            it = textures_.erase(it);
        }
    }
}

}  // namespace exhibit::station::ui
