// The station's screens, drawn from a StationModel each frame.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "exhibit/station/station_model.hpp"
#include "touch_ui.hpp"

namespace exhibit::station::ui {

// What the findings screen is looking at (view state only; the data is the model's).
struct FindingsView {
    int partition = 0;
    std::string folder;
    int group = -1;         // a FindingGroup shown instead of the folder, or -1
    long long file = -1;    // index into FindingsIndex::files for the details pane
    bool timeline = false;  // the timeline instead of the folder
    bool pictures = false;  // the picture grid instead of the folder
    int time_field = 0;     // 0 modified, 1 created
    int bucket = -1;        // a timeline bucket whose files are listed, or -1
};

class Screens {
  public:
    Screens(StationModel& model, TouchUi& ui) : model_(model), ui_(ui) {}
    // The whole window for one frame.
    void draw();

  private:
    void top_bar();
    void bottom_bar(const char* primary, bool primary_enabled, bool& primary_pressed);
    void sign_in();
    void case_screen();
    void device_screen();
    void plan_screen();
    void running_screen();
    void findings_screen();
    void file_details(const FindingsIndex& index, std::size_t file);
    void seal_screen();
    void review_screen();
    void verdict_panel(const BundleVerdict& verdict);
    void bundle_progress();
    void picture_grid(const FindingsIndex& index);
    void drop_textures();

    StationModel& model_;
    TouchUi& ui_;
    FindingsView findings_;
    struct Texture {
        ImTextureID id{};
        bool sharp = false;
    };
    std::map<std::size_t, Texture> textures_;  // by file, the grid's visible pictures
    float grid_scroll_ = 0;                    // the grid's scroll in the last frame
    int grid_direction_ = 0;                   // where it last moved: 1 down, -1 up, 0 still
    int grid_still_frames_ = 0;

  public:
    ~Screens() { drop_textures(); }
};

}  // namespace exhibit::station::ui
