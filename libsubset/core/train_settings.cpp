#include "libsubset/core/train_settings.h"

#include <sstream>

namespace subset {
namespace {

std::string defaults_note(int64_t ModelDefaults::*field_int, double ModelDefaults::*field_float) {
  std::ostringstream os;
  const ModelDefaults mlp = model_defaults("mlp"), convnet = model_defaults("convnet");
  if (field_int) os << "linear, mlp " << mlp.*field_int << "; convnet " << convnet.*field_int;
  else os << "linear, mlp " << mlp.*field_float << "; convnet " << convnet.*field_float;
  return os.str();
}

std::string epochs_note() {
  return "schedule epochs: " + defaults_note(&ModelDefaults::epochs, nullptr) +
         "; early-stop (the cap): " + defaults_note(&ModelDefaults::early_stop_epochs, nullptr) + "; not with steps";
}

template <class T>
std::string schedule_note(const char* schedule, T value) {
  std::ostringstream os;
  os << value << " (schedule " << schedule << " only)";
  return os.str();
}

// A schedule-specific parameter given under another schedule is a mistake worth naming: it would
// be silently ignored.
template <class T>
void check_schedule_only(const std::optional<T>& value, const std::string& name, const std::string& schedule,
                         const std::string& given_schedule) {
  SUBSET_CHECK_PARAM(!value || schedule == given_schedule, name,
                     "parameter '" << name << "' applies to schedule " << schedule << " only, not "
                                   << given_schedule);
}

}  // namespace

const SettingsSchema<TrainSettings>& train_schema() {
  using T = TrainSettings;
  static const SettingsSchema<T> schema =
      SettingsSchema<T>("train")
          .field("model", &T::model,
                 "Proxy model: linear, mlp, or convnet (the reference ConvNet of dataset condensation; needs a "
                 "store with image_shape)")
          .one_of({"linear", "mlp", "convnet"})
          .field("hidden", &T::hidden, "MLP hidden width").at_least(1).only_for({"mlp"})
          .field("depth", &T::depth, "MLP hidden layers, each of width hidden and followed by a ReLU").at_least(1).only_for({"mlp"})
          .field("dropout", &T::dropout,
                 "MLP dropout after each hidden ReLU, in training only: the probability a unit is zeroed")
          .at_least(0).below(1).only_for({"mlp"})
          .field("epochs", &T::epochs, "Training epochs; under early-stop the most it may train").at_least(1)
          .chosen_by(epochs_note())
          .field("schedule", &T::schedule,
                 "How long to train: epochs (a fixed count), steps (the same optimizer steps for every set), "
                 "early-stop (best epoch on a held-out validation split)")
          .one_of({"epochs", "steps", "early-stop"})
          .field("steps", &T::steps, "Optimizer steps of every training (schedule steps)").at_least(1)
          .chosen_by(schedule_note("steps", kDefaultSteps))
          .field("patience", &T::patience, "Epochs without a higher validation accuracy before stopping (early-stop)")
          .at_least(1).chosen_by(schedule_note("early-stop", kDefaultPatience))
          .field("validation", &T::validation,
                 "Fraction of each training set held out, stratified by label, to pick the best epoch (early-stop)")
          .above(0).below(1).chosen_by(schedule_note("early-stop", kDefaultValidation))
          .field("batch", &T::batch, "Batch size").at_least(1)
          .field("lr", &T::learning_rate, "Learning rate: Adam's (linear, mlp); SGD's (convnet)").above(0)
          .chosen_by(defaults_note(nullptr, &ModelDefaults::learning_rate))
          .field("weight-decay", &T::weight_decay,
                 "L2 weight decay of every parameter, added to the gradient: Adam's (linear, mlp; as "
                 "torch.optim.Adam, not AdamW); SGD's (convnet)")
          .at_least(0).chosen_by(defaults_note(nullptr, &ModelDefaults::weight_decay))
          .field("augment", &T::augment, "Augmentation of every training batch: none, or dsa (convnet only)")
          .one_of({"none", "dsa"})
          .field("momentum", &T::momentum, "SGD momentum").at_least(0).below(1).only_for({"convnet"})
          .field("device", &T::device, "cpu, cuda or cuda:N (with a CUDA build of libtorch)")
          .done();
  return schema;
}

TrainSettings resolve_defaults(TrainSettings settings) {
  const ModelDefaults d = model_defaults(settings.model);
  const bool early_stop = settings.schedule == "early-stop";
  if (!settings.epochs && settings.schedule != "steps") settings.epochs = early_stop ? d.early_stop_epochs : d.epochs;
  if (!settings.learning_rate) settings.learning_rate = d.learning_rate;
  if (!settings.weight_decay) settings.weight_decay = d.weight_decay;
  if (!settings.steps && settings.schedule == "steps") settings.steps = kDefaultSteps;
  if (early_stop) {
    if (!settings.patience) settings.patience = kDefaultPatience;
    if (!settings.validation) settings.validation = kDefaultValidation;
  }
  return settings;
}

void check_device_name(const std::string& device, const std::string& parameter) {
  bool known = device == "cpu" || device == "cuda";
  if (!known && device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 7)
    known = device.find_first_not_of("0123456789", 5) == std::string::npos;
  SUBSET_CHECK_PARAM(known, parameter, "unknown device '" << device << "' (expected cpu, cuda or cuda:N)");
}

void check_train_settings(const TrainSettings& settings) {
  train_schema().check(settings, settings.model);
  check_device_name(settings.device);
  SUBSET_CHECK_PARAM(settings.augment == "none" || settings.model == "convnet", "augment",
               "augmentation " << settings.augment << " applies to model convnet only, not " << settings.model);
  // Not optional, so the schema cannot tell them from their defaults: a deeper linear model would
  // silently be the same linear model.
  SUBSET_CHECK_PARAM(settings.depth == 1 || settings.model == "mlp", "depth",
                     "parameter 'depth' applies to model mlp only, not " << settings.model);
  SUBSET_CHECK_PARAM(settings.dropout == 0 || settings.model == "mlp", "dropout",
                     "parameter 'dropout' applies to model mlp only, not " << settings.model);
  SUBSET_CHECK_PARAM(!settings.epochs || settings.schedule != "steps", "epochs",
                     "parameter 'epochs' does not apply to schedule steps: give the budget as steps");
  check_schedule_only(settings.steps, "steps", "steps", settings.schedule);
  check_schedule_only(settings.patience, "patience", "early-stop", settings.schedule);
  check_schedule_only(settings.validation, "validation", "early-stop", settings.schedule);
}

}  // namespace subset
