//! Selecting layers by PyTorch parameter names (models.md §4), for all three architectures.
//!
//! `cnn` is munl's own network; its choices are ours: the classifier is `fc2`, its "blocks"
//! are `conv1`+`bn1`, `conv2`+`bn2` and `fc1`.
//!
//! A custom model (`arch()` = `custom`) has no known classifier or blocks: the methods that need
//! them refuse it first (`Ctx::refuse_custom`); the rules on single parameters (conv and Linear
//! weights by shape, BatchNorm by its running statistics, `bn` and `conv` in names) apply to it.

use tch::Tensor;

use crate::torch::models::Model;

/// The classifier module's name prefix: `fc.` (ResNet-18), `head.` (TinyViT, not
/// `norm_head`), `fc2.` (cnn).
pub(crate) fn classifier(model: &Model) -> &'static str {
    match model.arch() {
        "resnet18" => "fc.",
        "vit11m" => "head.",
        _ => "fc2.",
    }
}

/// The selectable blocks in order, each as the name prefixes it covers: ResNet-18 `layer1` …
/// `layer4`; TinyViT the BasicLayers `layers.1` … `layers.3` (each with its PatchMerging; the
/// ConvLayer `layers.0` is never selectable).
fn blocks(model: &Model) -> &'static [&'static [&'static str]] {
    match model.arch() {
        "resnet18" => &[&["layer1."], &["layer2."], &["layer3."], &["layer4."]],
        "vit11m" => &[&["layers.1."], &["layers.2."], &["layers.3."]],
        _ => &[&["conv1.", "bn1."], &["conv2.", "bn2."], &["fc1."]],
    }
}

/// The prefixes of the last `k` blocks (all of them when `k` exceeds their number) and the
/// classifier: what CF-k trains and EU-k re-initialises.
pub(crate) fn last_blocks_and_classifier(model: &Model, k: usize) -> Vec<&'static str> {
    let blocks = blocks(model);
    let from = blocks.len().saturating_sub(k);
    let mut out: Vec<&str> = blocks[from..].iter().flat_map(|b| b.iter().copied()).collect();
    out.push(classifier(model));
    out
}

/// Does `name` lie under one of `prefixes`?
pub(crate) fn under(name: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| name.starts_with(p))
}

/// The module prefix of a parameter name (`layer1.0.bn1.weight` → `layer1.0.bn1.`).
pub(crate) fn module_of(name: &str) -> &str {
    name.rfind('.').map_or("", |i| &name[..=i])
}

/// A Conv2d weight: a 4-D `….weight`.
pub(crate) fn is_conv_weight(name: &str, t: &Tensor) -> bool {
    name.ends_with(".weight") && t.dim() == 4
}

/// A Linear weight: a 2-D `….weight` (TinyViT's 2-D attention-bias tables are not weights).
pub(crate) fn is_linear_weight(name: &str, t: &Tensor) -> bool {
    name.ends_with(".weight") && t.dim() == 2
}

/// A parameter of a BatchNorm module: its module has running statistics.
pub(crate) fn is_batchnorm(model: &Model, name: &str) -> bool {
    model.tensor(&format!("{}running_mean", module_of(name))).is_some()
}

/// RNI's "bn" rule: the name contains `bn` (ResNet-18: stem and block BatchNorms, not the
/// downsample ones; TinyViT: every Conv2d_BN's `.bn.`).
pub(crate) fn is_bn_by_name(name: &str) -> bool {
    name.contains("bn")
}

/// The weights of direct children whose attribute name contains `conv` (CFW's confuser):
/// ResNet-18 `conv1`; TinyViT none; cnn `conv1` and `conv2`.
pub(crate) fn direct_conv_children(model: &Model) -> Vec<String> {
    model
        .names_in_model_order()
        .into_iter()
        .filter(|n| {
            n.ends_with(".weight") && n.matches('.').count() == 1 && n.split('.').next().unwrap_or("").contains("conv")
        })
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::torch::models::init::init;

    fn model(arch: &str) -> Model {
        let width = if arch == "cnn" { 8 } else { 32 };
        Model::from_state_dict(init(arch, width, 10, 0).unwrap(), Device::Cpu).unwrap()
    }

    #[test]
    fn resnet18_selections_follow_models_md() {
        let m = model("resnet18");
        assert_eq!(last_blocks_and_classifier(&m, 1), ["layer4.", "fc."]);
        assert_eq!(last_blocks_and_classifier(&m, 10), ["layer1.", "layer2.", "layer3.", "layer4.", "fc."]);
        assert_eq!(direct_conv_children(&m), ["conv1.weight"]);
        let names = m.names_in_model_order();
        let bn = names.iter().filter(|n| is_bn_by_name(n)).count();
        assert_eq!(bn, 34, "stem and block BatchNorms, not the downsample ones");
        let convs = names.iter().filter(|n| is_conv_weight(n, m.param(n).unwrap())).count();
        assert_eq!(convs, 20);
        assert!(is_batchnorm(&m, "layer2.0.downsample.1.weight"));
        assert!(!is_batchnorm(&m, "fc.bias"));
    }

    #[test]
    fn cnn_selections() {
        let m = model("cnn");
        assert_eq!(last_blocks_and_classifier(&m, 1), ["fc1.", "fc2."]);
        assert_eq!(direct_conv_children(&m), ["conv1.weight", "conv2.weight"]);
    }
}
