"""Emulator extension: tags of Application Auto Scaling scalable targets.

moto 5 registers scalable targets (with their `ScalableTargetARN`) but answers "not
implemented" to ListTagsForResource, TagResource and UntagResource, and drops the `Tags` of
RegisterScalableTarget. onboard_tables keeps `autoresponder:managed=true` on the targets of
managed tables (the runbooks' RegisterScalableTarget is allowed only on targets carrying it), so
the demo's auto-scaled table `profiles` needs them. The tags live on moto's own target objects
(a moto reset clears them with the targets).
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult

from local.emulator import extension

_TAGS = "_autoresponder_tags"


@extension("applicationautoscaling")
class ScalableTargetTags(ApplicationAutoScalingResponse):
    """ListTagsForResource, TagResource, UntagResource; `Tags` of RegisterScalableTarget."""

    def register_scalable_target(self) -> Any:
        answer = super().register_scalable_target()
        tags = self._get_param("Tags") or {}
        if tags:
            target = self._target_of_resource(
                self._get_param("ResourceId"), self._get_param("ScalableDimension")
            )
            if target is not None:
                self._tags_of(target.arn).update(tags)
        return answer

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"Tags": dict(self._tags_of(self._get_param("ResourceARN")))})

    def tag_resource(self) -> ActionResult:
        self._tags_of(self._get_param("ResourceARN")).update(self._get_param("Tags") or {})
        return ActionResult({})

    def untag_resource(self) -> ActionResult:
        tags = self._tags_of(self._get_param("ResourceARN"))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return ActionResult({})

    def _targets(self) -> list[Any]:
        backend = self.applicationautoscaling_backend
        return [t for by_id in backend.targets.values() for t in by_id.values()]

    def _target_of_resource(self, resource_id: str, dimension: str) -> Any:
        found = [
            t
            for t in self._targets()
            if t.resource_id == resource_id and t.scalable_dimension == dimension
        ]
        return found[0] if found else None

    def _tags_of(self, arn: str) -> dict[str, str]:
        for target in self._targets():
            if target.arn == arn:
                if not hasattr(target, _TAGS):
                    setattr(target, _TAGS, {})
                tags: dict[str, str] = getattr(target, _TAGS)
                return tags
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target {arn}")
